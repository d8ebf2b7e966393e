// `npm run demo`: the engine on embedded defaults with time sped up, a few hundred simulated
// shoppers driven through the lifecycle over HTTP, progress while it runs, and a report at the end.
//   npm run demo -- [--customers 300] [--time-scale 86400] [--seed 7] [--days 365] [--help]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  formatEnding,
  formatProgress,
  formatReport,
  queuedJobs,
  sendsFromMetrics,
  type DemoEnding,
  type JourneyFigures,
  type Unfinished,
} from './demo/demo-report.js';
import { DEMO_USAGE, demoPrefix, parseDemoOptions, type DemoOptions } from './demo/demo-options.js';
import { simulateCustomers, type ScheduledCall } from './demo/simulated-customers.js';
import { connectRedis, deleteKeysMatching, engineKeyPatterns } from '../engine/index.js';
import { runMain, runProcess, type RunningProcess } from './run-process.js';

const DAY = 86_400_000;

/**
 * Aborted once the reader of the output has gone (`npm run demo | head -3` closes the pipe): the
 * run then stops as after Ctrl-C, its keys deleted, and exits 0, as `chorus graph x | head` does.
 * Unhandled, the EPIPE ended the process on the spot and left the run's keys in Redis.
 */
const readerGone = new AbortController();
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  readerGone.abort();
});

runMain(async () => {
  const options = parseDemoOptions(process.argv.slice(2));
  if (!options) {
    process.stdout.write(`${DEMO_USAGE}\n`);
    return;
  }
  const prefix = demoPrefix(process.env.REDIS_PREFIX, randomBytes(3).toString('hex'));
  const apiKey = `demo_${randomBytes(12).toString('base64url')}`;
  const outbox = mkdtempSync(join(tmpdir(), 'chorus-demo-outbox-'));
  // The demo gets its own key prefix and outbox, so it never mixes with a running engine's data.
  Object.assign(process.env, {
    TIME_SCALE: String(options['time-scale']),
    REDIS_PREFIX: prefix,
    OUTBOX_DIR: outbox,
    PORT: '0',
    API_KEY: apiKey,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    SWEEP_INTERVAL_MS: '5000',
  });
  const running = await runProcess({
    embeddedRedis: true,
    banner: false,
    api: true,
    workers: true,
    // However the run ends (done, Ctrl-C, an error), a shared Redis keeps nothing of the demo; a
    // private one was deleted with its process. After the stop, so no worker writes again behind it.
    afterStop: async ({ config, redisTarget, embeddedRedis }) => {
      // An outbox nothing was written to (a run stopped before its first send) is not worth keeping.
      removeIfNoFiles(outbox);
      if (embeddedRedis) return;
      const redis = connectRedis(redisTarget, { maxRetriesPerRequest: 1 });
      try {
        await deleteKeysMatching(redis, engineKeyPatterns(config.REDIS_PREFIX));
      } finally {
        redis.disconnect();
      }
    },
  });
  try {
    await drive(running, options, { apiKey, outbox, prefix });
  } catch (error) {
    // The run's own error is the one to report, not one the stop may add.
    await running.stop().catch(() => undefined);
    throw error;
  }
  await running.stop();
  if (readerGone.signal.aborted) return;
  // Kept: reading what was sent is half the point of a demo. The system's temporary folder.
  process.stdout.write(`The messages sent are in ${outbox}; delete it when you are done.\n`);
});

/** Deletes `folder` when it holds no file, in it or in a folder below (the channels make theirs). */
function removeIfNoFiles(folder: string): void {
  try {
    const entries = readdirSync(folder, { recursive: true, withFileTypes: true });
    if (entries.every((entry) => entry.isDirectory())) rmSync(folder, { recursive: true, force: true });
  } catch {
    // Gone already, or unreadable: left as it is, and the clean-up of Redis goes on.
  }
}

/** Sends the shoppers' calls as their time comes, shows progress, and reports when the run settles. */
async function drive(
  running: RunningProcess,
  options: DemoOptions,
  { apiKey, outbox, prefix }: { apiKey: string; outbox: string; prefix: string },
): Promise<void> {
  const base = running.api!.url;
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  const calls = simulateCustomers(options.customers, options.seed);
  const print = (line: string) => {
    if (!readerGone.signal.aborted) process.stdout.write(line + '\n');
  };
  print(
    `Chorus demo: ${options.customers} shoppers, a journey day lasts ${(DAY / options['time-scale'] / 1000).toFixed(2)} s.`,
  );
  print(`API ${base}, emails, SMS and push written to ${outbox}`);
  print(`Redis key prefix ${prefix}, deleted at the end\n`);

  async function journeys(): Promise<JourneyFigures[]> {
    const response = await fetch(`${base}/v1/journeys`, { headers });
    return ((await response.json()) as { journeys: JourneyFigures[] }).journeys;
  }
  async function send(batch: readonly ScheduledCall[]): Promise<void> {
    const response = await fetch(`${base}/v1/batch`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ batch: batch.map((c) => c.call) }),
    });
    if (response.status !== 200)
      throw new Error(`batch refused (${response.status}): ${await response.text()}`);
  }

  const signUps = calls.filter((c) => c.call.type === 'track' && c.call.event === 'Signed Up').length;
  /** What is left to do: sign-ups not yet entered, customers in a journey, jobs waiting or running. */
  async function unfinished(figures: readonly JourneyFigures[]): Promise<Unfinished> {
    const entered = Math.max(0, ...figures.map((j) => j.entered));
    const inJourney = figures.reduce((n, j) => n + Object.values(j.stages).reduce((a, b) => a + b, 0), 0);
    // The API answers before it adds an event's drain job: a job not yet added is not counted below.
    await running.api!.settle();
    const metrics = await (await fetch(`${base}/metrics`)).text();
    return { notEntered: Math.max(0, signUps - entered), inJourney, queued: queuedJobs(metrics) };
  }
  const settled = (left: Unfinished) => left.notEntered + left.inJourney + left.queued === 0;

  const startedAt = Date.now();
  const journeyNow = () => (Date.now() - startedAt) * options['time-scale'];
  let sent = 0;
  let lastProgress = 0;
  let ending: DemoEnding | undefined;
  while (!ending) {
    if (readerGone.signal.aborted) return;
    const due = [];
    while (sent + due.length < calls.length && calls[sent + due.length]!.at <= journeyNow())
      due.push(calls[sent + due.length]!);
    for (let i = 0; i < due.length; i += 500) await send(due.slice(i, i + 500));
    sent += due.length;
    const day = journeyNow() / DAY;
    // Once a second, and at once when the last event has gone.
    if (Date.now() - lastProgress >= 1000 || (due.length > 0 && sent === calls.length)) {
      lastProgress = Date.now();
      const figures = await journeys();
      print(formatProgress(day, sent, calls.length, figures));
      const atCap = day >= options.days;
      if (sent === calls.length || atCap) {
        const left = await unfinished(figures);
        if (settled(left) || atCap) ending = { day, cap: options.days, left };
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }

  const metrics = await (await fetch(`${base}/metrics`)).text();
  print(formatReport(await journeys(), sendsFromMetrics(metrics)));
  print(formatEnding(ending));
}
