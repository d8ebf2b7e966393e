import { Agent, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { SMTPServer } from 'smtp-server';
import { deleteKeysMatching, engineKeyPatterns } from '../engine/index.js';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Deletes every key a benchmark wrote: the engine's and its queues' (engineKeyPatterns), and any extra patterns. */
export async function deleteBenchKeys(
  redis: Redis,
  prefix: string,
  extraPatterns: readonly string[] = [],
): Promise<void> {
  await deleteKeysMatching(redis, [...engineKeyPatterns(prefix), ...extraPatterns]);
}

/** A number from the environment (a benchmark knob), or the default. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name}=${raw} is not a number`);
  return value;
}

/** True when the module at `moduleUrl` is the script node was asked to run (not imported). */
export function isMain(moduleUrl: string): boolean {
  const script = process.argv[1];
  return script !== undefined && resolve(script) === fileURLToPath(moduleUrl);
}

/** The p-th percentile (0-100) of already sorted values, nearest rank. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface Distribution {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!,
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it is true; throws after `timeoutMs` naming `what`. */
export async function until(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 120_000,
  everyMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Runs `work(i)` for i in [0, count) with at most `concurrency` in flight. */
export async function inFlight(
  count: number,
  concurrency: number,
  work: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, lane));
}

/**
 * A JSON POST over node:http with a keep-alive agent (fetch's own cost per request would
 * otherwise dominate). `onSent` is called right after the request is handed to the socket.
 */
export function post(
  agent: Agent,
  url: URL,
  headers: Record<string, string>,
  body: string,
  onSent?: () => void,
): Promise<number> {
  return new Promise((resolvePost, reject) => {
    const request = httpRequest(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolvePost(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.end(body);
    onSent?.();
  });
}

export function keepAliveAgent(maxSockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets });
}

export interface Sink {
  server: SMTPServer;
  port: number;
  /** Called with the first recipient of each message when the sink accepts it (answers its DATA). */
  onAccepted: ((recipient: string) => void) | undefined;
  close(): Promise<void>;
}

/** An SMTP sink that accepts every message and reads it to the end without parsing it. */
export async function startSink(): Promise<Sink> {
  const sink: Sink = {
    server: undefined as unknown as SMTPServer,
    port: 0,
    onAccepted: undefined,
    close: () => new Promise<void>((done) => sink.server.close(() => done())),
  };
  sink.server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      stream.on('end', () => {
        sink.onAccepted?.(session.envelope.rcptTo[0]?.address ?? '');
        callback();
      });
      stream.resume();
    },
  });
  // A client that drops its connection must not become an uncaught 'error' event in the bench.
  sink.server.on('error', () => {});
  await new Promise<void>((done) => sink.server.listen(0, '127.0.0.1', done));
  sink.port = (sink.server.server.address() as AddressInfo).port;
  return sink;
}

/** One row of the `npm run bench` table. `met` is undefined where there is no target. */
export interface BenchRow {
  measure: string;
  baseline: string;
  chorus: string;
  figure: string;
  target: string;
  met: boolean | undefined;
}

export const perSecond = (value: number) => `${Math.round(value).toLocaleString('en-US')} /s`;
export const ms = (value: number) => `${value.toFixed(value < 10 ? 1 : 0)} ms`;
/** A difference in ms with its sign: `+1.6 ms`, `-25 ms`. */
export const msDelta = (value: number) => `${value < 0 ? '-' : '+'}${ms(Math.abs(value))}`;
export const percent = (value: number) => `${(value * 100).toFixed(0)}%`;

/** Renders rows as a Markdown table (readable in a terminal, pastable into bench/README.md). */
export function formatTable(rows: readonly BenchRow[]): string {
  const header = ['measure', 'baseline', 'Chorus', 'ratio/figure', 'target', 'met?'];
  const cells = rows.map((r) => [
    r.measure,
    r.baseline,
    r.chorus,
    r.figure,
    r.target,
    r.met === undefined ? '-' : r.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const right = [false, true, true, true, false, false];
  const line = (values: string[]) =>
    `| ${values.map((v, i) => (right[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (right[i] ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(header), rule, ...cells.map(line)].join('\n');
}
