// Emails per second through Chorus against plain pooled nodemailer, to one in-process SMTP sink.
//
// Baseline: nodemailer with a pool of MAX_CONNECTIONS on TCP_NODELAY sockets (as the adapter
//           opens them), sending the rendered `nudge` email (HTML and text) with CONCURRENCY
//           sends in flight.
// Adapter:  the Chorus email adapter to the same sink, sending Deliveries that carry the same
//           pre-rendered message, with CONCURRENCY sends in flight.
// Full:     an engine's email delivery worker (concurrency CONCURRENCY) fed delivery jobs
//           straight onto its queue: queueing, reading the profile, the ledger, rendering and the
//           adapter, timed until every job has recorded `sent`.
// Queue:    a bare BullMQ queue and worker (concurrency CONCURRENCY) in front of the baseline's
//           pooled nodemailer, each job the pre-rendered email and nothing else: what a durable
//           queue alone leaves of the baseline on this machine, the ceiling for any design that
//           queues each email.
// Also:     nodemailer again with its default sockets (Nagle on), to show the 40 ms
//           Nagle/delayed-ACK wait the adapter avoids (see bench/README.md).
//
// Each figure is printed with its ratio to the baseline, and with this process's CPU per email.
//
// Usage: npm run bench:sends
//        (env: REDIS_URL, BENCH_EMAILS, BENCH_CONCURRENCY, BENCH_ROUNDS, BENCH_WARMUP_ROUNDS,
//        BENCH_MAX_CONNECTIONS)
import { noDelaySmtpSocket } from '../engine/channels/smtp-socket.js';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import nodemailer from 'nodemailer';
import {
  createEmailAdapter,
  createEngine,
  createUnsubscribeToken,
  customerKeys,
  loadTemplates,
  MessageRenderer,
  messageFields,
  unsubscribeUrl,
  type DeliveryJobData,
  type RenderedFor,
  type TemplateSet,
} from '../engine/index.js';
import { notify } from '../test/fixtures/journeys/notify.js';
import {
  DEFAULT_REDIS_URL,
  deleteBenchKeys,
  envNumber,
  isMain,
  percent as asPercent,
  perSecond as asPerSecond,
  startSink,
  type BenchRow,
} from './support.js';

export interface SendsOptions {
  redisUrl: string;
  prefix: string;
  emails: number;
  concurrency: number;
  rounds: number;
  /** Untimed rounds of every side first, so each is measured with its code already compiled. */
  warmupRounds: number;
  maxConnections: number;
  /** Also time nodemailer with its default sockets (Nagle on): slow, shown for comparison only. */
  nagle: boolean;
}

export function sendsOptionsFromEnv(): SendsOptions {
  return {
    redisUrl: process.env.REDIS_URL ?? DEFAULT_REDIS_URL,
    prefix: `chorus-bench-sends-${process.pid}`,
    emails: envNumber('BENCH_EMAILS', 3000),
    concurrency: envNumber('BENCH_CONCURRENCY', 50),
    rounds: envNumber('BENCH_ROUNDS', 2),
    warmupRounds: envNumber('BENCH_WARMUP_ROUNDS', 1),
    maxConnections: envNumber('BENCH_MAX_CONNECTIONS', 5),
    nagle: true,
  };
}

export const FROM = 'Chorus Tea <hello@chorus.test>';
export const UNSUBSCRIBE = { baseUrl: 'https://chorus.test', secret: 'bench-secret-of-sixteen' };

/** Emails per second, and this process's CPU time (user + system) per email, in µs. */
export interface Figure {
  perSecond: number;
  cpuMicros: number;
}

/** Times `run`, which sends `count` emails, by the wall clock and by this process's CPU. */
async function measure(count: number, run: () => Promise<void>): Promise<Figure> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await run();
  const seconds = (performance.now() - started) / 1000;
  const { user, system } = process.cpuUsage(cpu);
  return { perSecond: count / seconds, cpuMicros: (user + system) / count };
}

/** Runs `send(i)` for i in [0, emails) with at most `concurrency` in flight. */
function inFlight(o: SendsOptions, send: (i: number) => Promise<void>): Promise<Figure> {
  let next = 0;
  const lane = async () => {
    while (next < o.emails) await send(next++);
  };
  return measure(o.emails, async () => {
    await Promise.all(Array.from({ length: Math.min(o.concurrency, o.emails) }, lane));
  });
}

/** The `nudge` email as the delivery worker renders it, for the two paths that skip rendering. */
export function renderNudge(templates: TemplateSet, customerId: string): RenderedFor<'email'> {
  const core = templates.message('nudge')!;
  const unsubscribe = unsubscribeUrl(
    UNSUBSCRIBE.baseUrl,
    createUnsubscribeToken(UNSUBSCRIBE.secret, {
      customerId,
      topic: 'marketing',
      exp: Date.now() + 60 * 86_400_000,
    }),
  );
  const rendered = new MessageRenderer(templates).render('nudge', 'email', {
    customer: { id: customerId },
    profile: { email: `${customerId}@example.com`, firstName: 'Ada' },
    trigger: {},
    event: { name: 'Notify', properties: {} },
    data: {},
    journey: { id: 'notify', version: 1, state: 'sent', stage: 'consideration' },
    message: messageFields(core),
    variants: {},
    locale: 'en-US',
    timezone: 'UTC',
    unsubscribeUrl: unsubscribe,
  });
  if (rendered.channel !== 'email') throw new Error('nudge did not render as an email');
  return rendered;
}

/** The baseline's transport: pooled nodemailer, on TCP_NODELAY sockets unless `noDelay` is off. */
function pooledTransport(o: SendsOptions, port: number, { noDelay }: { noDelay: boolean }) {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    pool: true,
    maxConnections: o.maxConnections,
    secure: false,
    ignoreTLS: true,
    ...(noDelay
      ? { getSocket: noDelaySmtpSocket(30_000) } // the Chorus email adapter's own socket factory
      : {}),
  });
}

/**
 * nodemailer opens its sockets with Nagle's algorithm on and writes the `.` that ends a message
 * on its own, so each message waits for the server's delayed ACK (40 ms on Linux). `noDelay`
 * hands the pool sockets with TCP_NODELAY set (nodemailer's `getSocket` hook), as the Chorus
 * email adapter does: the baseline. Without it, the row shows the wait the adapter avoids.
 */
async function plainNodemailer(
  o: SendsOptions,
  port: number,
  email: RenderedFor<'email'>,
  { noDelay }: { noDelay: boolean },
): Promise<Figure> {
  const transport = pooledTransport(o, port, { noDelay });
  try {
    return await inFlight(o, async (i) => {
      await transport.sendMail({
        from: FROM,
        to: `bench-${i}@example.com`,
        subject: email.subject,
        html: email.html,
        text: email.text,
      });
    });
  } finally {
    transport.close();
  }
}

/**
 * The baseline behind a bare BullMQ queue: every email a job (the address; the message is the
 * same pre-rendered one), added at once and sent by a worker of the same concurrency, with the
 * Chorus delivery queue's retention. Timed from the first add until every job has completed.
 */
async function queueAlone(
  o: SendsOptions,
  port: number,
  email: RenderedFor<'email'>,
  prefix: string,
): Promise<Figure> {
  const transport = pooledTransport(o, port, { noDelay: true });
  const connection = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue<{ to: string }>('emails', {
    connection,
    prefix: `{${prefix}}`,
    defaultJobOptions: { removeOnComplete: { age: 86_400, count: 10_000 } },
  });
  const worker = new Worker<{ to: string }>(
    'emails',
    async (job) => {
      await transport.sendMail({
        from: FROM,
        to: job.data.to,
        subject: email.subject,
        html: email.html,
        text: email.text,
      });
    },
    { connection, prefix: `{${prefix}}`, concurrency: o.concurrency },
  );
  try {
    await worker.waitUntilReady();
    let completed = 0;
    const all = new Promise<void>((resolve, reject) => {
      worker.on('completed', () => void (++completed === o.emails && resolve()));
      worker.on('failed', (_job, error) => reject(error));
    });
    return await measure(o.emails, async () => {
      await Promise.all(
        Array.from({ length: o.emails }, (_, i) => queue.add('email', { to: `bench-${i}@example.com` })),
      );
      await all;
    });
  } finally {
    await worker.close();
    await queue.close();
    connection.disconnect();
    transport.close();
  }
}

async function chorusAdapter(
  o: SendsOptions,
  port: number,
  email: RenderedFor<'email'>,
  round: number,
): Promise<Figure> {
  const adapter = createEmailAdapter({
    from: FROM,
    smtpUrl: `smtp://127.0.0.1:${port}`,
    maxConnections: o.maxConnections,
  });
  try {
    return await inFlight(o, async (i) => {
      const result = await adapter.send({
        opId: `bench-${round}-${i}`,
        customerId: `bench-${i}`,
        journeyId: 'notify',
        journeyVersion: 1,
        message: 'nudge',
        variant: 'control',
        channel: 'email',
        address: { email: `bench-${i}@example.com` },
        rendered: email,
        unsubscribeUrl: `${UNSUBSCRIBE.baseUrl}/v1/unsubscribe?token=bench`,
      });
      if (result.status !== 'sent') throw new Error(`adapter send ${i}: ${result.status}`);
    });
  } finally {
    await adapter.close?.();
  }
}

/** Polls until every customer's identify has been applied (their profile has an email). */
export async function waitForProfiles(engine: ReturnType<typeof createEngine>, ids: string[]): Promise<void> {
  const deadline = Date.now() + 120_000;
  let pending = ids;
  while (pending.length > 0) {
    if (Date.now() > deadline) throw new Error(`${pending.length} identify calls were not applied in 120 s`);
    const profiles = await Promise.all(pending.map((id) => engine.customer(id)));
    pending = pending.filter((_, i) => typeof profiles[i]!.profile.email !== 'string');
    if (pending.length > 0) await new Promise((r) => setTimeout(r, 20));
  }
}

export async function chorusFullPath(
  o: SendsOptions,
  port: number,
  templates: TemplateSet,
  prefix: string,
): Promise<Figure> {
  const redis = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
  const engine = createEngine({
    redis,
    prefix,
    journeys: [notify],
    messages: { has: (id) => templates.message(id) !== undefined },
    delivery: {
      renderer: new MessageRenderer(templates),
      messages: { get: (id) => templates.message(id) },
      adapters: {
        email: createEmailAdapter({
          from: FROM,
          smtpUrl: `smtp://127.0.0.1:${port}`,
          maxConnections: o.maxConnections,
        }),
      },
      unsubscribe: UNSUBSCRIBE,
    },
  });
  try {
    // Untimed: every customer identified with an email, through the journey worker, which is
    // then stopped so only delivery runs while timed.
    const ids = Array.from({ length: o.emails }, (_, i) => `bench-${i}`);
    const [journeyWorker] = engine.startWorkers({ deliveries: false });
    await Promise.all(
      ids.map((id) =>
        engine.identify({ userId: id, traits: { email: `${id}@example.com`, firstName: 'Ada' } }),
      ),
    );
    await waitForProfiles(engine, ids);
    await journeyWorker!.close();

    const workers = engine.startWorkers({ journeys: false, deliveryConcurrency: o.concurrency });
    const emailWorker = workers.find((w) => w.name === 'deliveries-email')!;
    await Promise.all(workers.map((w) => w.waitUntilReady()));
    let sent = 0;
    let resolveAll!: () => void;
    let rejectAll!: (error: Error) => void;
    const all = new Promise<void>((resolve, reject) => {
      resolveAll = resolve;
      rejectAll = reject;
    });
    emailWorker.on('completed', (_job, result) => {
      if (result !== 'sent') rejectAll(new Error(`a delivery job ended "${String(result)}", not "sent"`));
      else if (++sent === o.emails) resolveAll();
    });
    emailWorker.on('failed', (_job, error) => rejectAll(error));

    const queue = engine.queues.deliveries.email;
    const at = Date.now();
    const figure = await measure(o.emails, async () => {
      await Promise.all(
        ids.map((customerId, i) => {
          const data: DeliveryJobData = {
            v: 1,
            type: 'send',
            opId: `bench-op-${i}`,
            customerId,
            journeyId: 'notify',
            journeyVersion: 1,
            instanceId: `bench-instance-${i}`,
            state: 'sent',
            stage: 'consideration',
            message: 'nudge',
            channels: ['email'],
            channel: 'email',
            variants: {},
            trigger: {},
            data: {},
            event: { name: 'Notify', properties: {} },
            at,
          };
          return queue.add(data.message, data, { jobId: data.opId });
        }),
      );
      await all;
    });

    // Untimed: the queue and every customer's ledger agree that each email went out once.
    const completed = await queue.getCompletedCount();
    const heads = await Promise.all(ids.map((id) => redis.lindex(customerKeys(prefix, id).messages, 0)));
    const recorded = heads.filter(
      (head) => head && (JSON.parse(head) as { status: string }).status === 'sent',
    );
    if (completed !== o.emails || recorded.length !== o.emails)
      throw new Error(`expected ${o.emails} sent, queue says ${completed}, ledgers say ${recorded.length}`);
    return figure;
  } finally {
    await engine.close();
    redis.disconnect();
  }
}

export interface SendsFigures {
  options: SendsOptions;
  /** Best round of each path: the fastest, and separately the least CPU per email. */
  baseline: Figure;
  adapter: Figure;
  queue: Figure;
  delivery: Figure;
  nagle: Figure | undefined;
  /** Of the rate, against the baseline. */
  adapterRatio: number;
  queueRatio: number;
  deliveryRatio: number;
  emailBytes: number;
}

const best = (figures: Figure[]): Figure => ({
  perSecond: Math.max(...figures.map((f) => f.perSecond)),
  cpuMicros: Math.min(...figures.map((f) => f.cpuMicros)),
});

export async function benchSends(o: SendsOptions): Promise<SendsFigures> {
  const templates = loadTemplates('templates', { journeys: [notify] });
  const email = renderNudge(templates, 'bench-0');
  const { server, port } = await startSink();
  const admin = new Redis(o.redisUrl);
  const plain: Figure[] = [];
  const noDelay: Figure[] = [];
  const adapter: Figure[] = [];
  const queue: Figure[] = [];
  const full: Figure[] = [];
  try {
    for (let round = 0; round < o.warmupRounds + o.rounds; round++) {
      // Warm-up rounds are thrown away; the Nagle row, slow and no target, gets none.
      const timed = round >= o.warmupRounds;
      const keep = (figures: Figure[], figure: Figure) => void (timed && figures.push(figure));
      if (o.nagle && timed) plain.push(await plainNodemailer(o, port, email, { noDelay: false }));
      keep(noDelay, await plainNodemailer(o, port, email, { noDelay: true }));
      keep(adapter, await chorusAdapter(o, port, email, round));
      keep(queue, await queueAlone(o, port, email, `${o.prefix}-queue-${round}`));
      keep(full, await chorusFullPath(o, port, templates, `${o.prefix}-${round}`));
      await deleteBenchKeys(admin, `${o.prefix}-queue-${round}`);
      await deleteBenchKeys(admin, `${o.prefix}-${round}`);
    }
  } finally {
    for (let round = 0; round < o.warmupRounds + o.rounds; round++) {
      await deleteBenchKeys(admin, `${o.prefix}-queue-${round}`);
      await deleteBenchKeys(admin, `${o.prefix}-${round}`);
    }
    admin.disconnect();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  const baseline = best(noDelay);
  return {
    options: o,
    baseline,
    adapter: best(adapter),
    queue: best(queue),
    delivery: best(full),
    nagle: o.nagle ? best(plain) : undefined,
    adapterRatio: best(adapter).perSecond / baseline.perSecond,
    queueRatio: best(queue).perSecond / baseline.perSecond,
    deliveryRatio: best(full).perSecond / baseline.perSecond,
    emailBytes: Buffer.byteLength(email.html) + Buffer.byteLength(email.text),
  };
}

export function sendsReport(f: SendsFigures): string {
  const { emails, concurrency, maxConnections, rounds } = f.options;
  const percent = (value: number, of: number) => `${((value / of) * 100).toFixed(0)}%`.padStart(6);
  const row = (name: string, figure: Figure) =>
    `${name.padEnd(46)} ${Math.round(figure.perSecond).toString().padStart(7)} /s ${percent(figure.perSecond, f.baseline.perSecond)}` +
    `   ${Math.round(figure.cpuMicros).toString().padStart(6)} µs ${percent(figure.cpuMicros, f.baseline.cpuMicros)}`;
  return [
    `emails: ${emails} per run, concurrency ${concurrency}, ${maxConnections} SMTP connections, ` +
      `best of ${rounds} rounds after ${f.options.warmupRounds} untimed, HTML+text ${f.emailBytes} bytes`,
    `${'path'.padEnd(46)} ${'emails/s'.padStart(10)} ${'ratio'.padStart(6)}   ${'CPU/email'.padStart(9)} ${'ratio'.padStart(6)}`,
    row('nodemailer with TCP_NODELAY (baseline)', f.baseline),
    row('Chorus email adapter', f.adapter),
    row('bare BullMQ queue + worker, then the baseline', f.queue),
    row('Chorus delivery path (target >= 70%)', f.delivery),
    ...(f.nagle ? [row('nodemailer, default sockets (Nagle on)', f.nagle)] : []),
    'CPU/email: this process only (sink included, Redis not); ratios are against the baseline.',
    '',
  ].join('\n');
}

/** The whole delivery path counts against the target; the adapter alone is shown under it. */
export function sendsRows(f: SendsFigures): BenchRow[] {
  return [
    {
      measure: 'emails/s: delivery path vs pooled nodemailer',
      baseline: asPerSecond(f.baseline.perSecond),
      chorus: asPerSecond(f.delivery.perSecond),
      figure: asPercent(f.deliveryRatio),
      target: '>= 70%',
      met: f.deliveryRatio >= 0.7,
    },
    {
      measure: '  (email adapter alone)',
      baseline: asPerSecond(f.baseline.perSecond),
      chorus: asPerSecond(f.adapter.perSecond),
      figure: asPercent(f.adapterRatio),
      target: '-',
      met: undefined,
    },
    {
      measure: '  (bare BullMQ queue in front of it)',
      baseline: asPerSecond(f.baseline.perSecond),
      chorus: asPerSecond(f.queue.perSecond),
      figure: asPercent(f.queueRatio),
      target: '-',
      met: undefined,
    },
  ];
}

if (isMain(import.meta.url)) {
  process.stdout.write(sendsReport(await benchSends(sendsOptionsFromEnv())));
}
