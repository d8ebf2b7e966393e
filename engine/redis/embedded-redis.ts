import { spawn, type ChildProcess } from 'node:child_process';
import { constants as fsConstants, rmSync } from 'node:fs';
import { access, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from '../free-port.js';
import { withoutCredentials } from './connection.js';
import { RedisUnavailableError } from './errors.js';

/** The two log methods `resolveRedis` uses; a pino logger fits. */
export interface RedisLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface ResolveRedisOptions {
  /** An explicit Redis (usually `REDIS_URL`); used as is, never probed. An empty string counts as unset. */
  url?: string | undefined;
  /** Where a developer's local Redis usually is. Default `redis://127.0.0.1:6379`. */
  defaultUrl?: string;
  /** The binary started when nothing answers on `defaultUrl`. Default `redis-server` (from PATH). */
  redisServerBinary?: string;
  logger?: RedisLogger;
}

export interface ResolvedRedis {
  url: string;
  /** True when `url` points at a private `redis-server` this process started. */
  embedded: boolean;
  /** Stops the private `redis-server` and deletes its data; a no-op for a Redis we did not start. Idempotent. */
  stop(): Promise<void>;
}

const DEFAULT_URL = 'redis://127.0.0.1:6379';
const PROBE_TIMEOUT_MS = 500;
const START_TIMEOUT_MS = 5_000;
const STOP_TIMEOUT_MS = 3_000;
const POLL_INTERVAL_MS = 50;
const FIX_WITH_REDIS_URL = 'or set REDIS_URL to a running Redis';

/**
 * Finds a Redis to run against: the explicit `url`, else a Redis already answering on `defaultUrl`,
 * else a private `redis-server` in a temp dir, so `npm start` works on a fresh machine with no setup.
 *
 * The private server uses `noeviction` (BullMQ loses jobs otherwise) and an append-only file, and is
 * killed if this process exits, and stopped, its folder deleted, if this process is killed outright
 * (SIGKILL). Entry points own SIGINT/SIGTERM/SIGHUP: they should call `stop()` there, which lets
 * the jobs still running finish before the server goes.
 *
 * @throws {RedisUnavailableError} when no Redis answers and none can be started, or when the one
 * on `defaultUrl` asks for a password (it is meant to be used: set `url`).
 * @example
 * ```ts
 * const redis = await resolveRedis({ url: env.REDIS_URL, logger });
 * const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
 * process.once('SIGTERM', () => void connection.quit().then(() => redis.stop()));
 * ```
 */
export async function resolveRedis(options: ResolveRedisOptions): Promise<ResolvedRedis> {
  const { url, defaultUrl = DEFAULT_URL, redisServerBinary = 'redis-server', logger } = options;
  // Probing an explicit url would hide a typo behind a silently started private server.
  if (url) {
    logger?.info({ url: withoutCredentials(url), embedded: false }, 'using the Redis given by url');
    return { url, embedded: false, stop: async () => {} };
  }
  const found = await probe(defaultUrl);
  if (found.refusal !== undefined) {
    // A Redis is there, guarded: a private server beside it would take the journeys meant for it,
    // and delete them when the process stops.
    throw new RedisUnavailableError(
      `A Redis answers on ${withoutCredentials(defaultUrl)} but asks for a password (${found.refusal}). ` +
        `To fix: set REDIS_URL with its password, redis://:<password>@${new URL(defaultUrl).host} ` +
        '(or redis://<user>:<password>@…), or stop it to run on a private redis-server.',
    );
  }
  if (found.answers) {
    logger?.info(
      { url: withoutCredentials(defaultUrl), embedded: false },
      'using the Redis answering on the default url',
    );
    return { url: defaultUrl, embedded: false, stop: async () => {} };
  }
  logger?.warn(
    { defaultUrl: withoutCredentials(defaultUrl) },
    'nothing answers on the default Redis url; starting a private redis-server whose data is deleted on stop',
  );
  return startEmbedded(redisServerBinary, defaultUrl, logger);
}

async function startEmbedded(
  binary: string,
  defaultUrl: string,
  logger?: RedisLogger,
): Promise<ResolvedRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'chorus-redis-'));
  const logFile = join(dir, 'redis-server.log');
  let child: ChildProcess | undefined;
  // Synchronous by necessity: `exit` handlers cannot await.
  const cleanUpOnExit = (): void => {
    if (child) killGroup(child);
    rmSync(dir, { recursive: true, force: true });
  };
  // Before the spawn: a process that exits while the server starts (Ctrl-C then) must not leave
  // it running in its process group of its own, nor its folder.
  process.once('exit', cleanUpOnExit);
  try {
    const port = await freePort();
    child = await spawnRedisServer(binary, port, dir, logFile, defaultUrl);
    const url = `redis://127.0.0.1:${port}`;
    await waitUntilReady(child, url, logFile);

    const running = child;
    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> =>
      (stopping ??= (async () => {
        process.off('exit', cleanUpOnExit);
        await terminate(running);
        await rm(dir, { recursive: true, force: true });
        logger?.info({ port, dir }, 'stopped the private redis-server');
      })());

    logger?.info({ url, port, dir, pid: running.pid, embedded: true }, 'using a private redis-server');
    return { url, embedded: true, stop };
  } catch (error) {
    if (child) await terminate(child);
    await rm(dir, { recursive: true, force: true });
    process.off('exit', cleanUpOnExit);
    throw error;
  }
}

async function spawnRedisServer(
  binary: string,
  port: number,
  dir: string,
  logFile: string,
  defaultUrl: string,
): Promise<ChildProcess> {
  // Output goes to a file, not a pipe: a pipe nobody drains would block the server once full.
  const log = await open(logFile, 'a');
  try {
    // Checked here: the shell would start without it, and only exit 127.
    await requireExecutable(binary);
    // prettier-ignore
    const args = [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
      '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec',
      '--maxmemory-policy', 'noeviction', '--hz', '100', '--daemonize', 'no', '--protected-mode', 'yes',
    ];
    // A process group of its own: Ctrl-C at a terminal signals the whole foreground group, and a
    // server that got the SIGINT too would shut down under the workers still finishing their jobs.
    // It goes when this process stops it (or exits), never before.
    // Under a shell that holds the read end of a pipe from this process (see STOP_WITH_PARENT).
    const child = spawn('/bin/sh', ['-c', STOP_WITH_PARENT, 'chorus-redis', dir, binary, ...args], {
      stdio: ['pipe', log.fd, log.fd],
      detached: true,
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      // `on`, not `once`: it also swallows later errors (a failed kill) that would otherwise crash us.
      child.on('error', reject);
    });
    // The server must not keep the event loop alive on its own; the `exit` handler kills it.
    child.unref();
    (child.stdin as (typeof child.stdin & { unref?: () => void }) | null)?.unref?.();
    return child;
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : 'unknown error';
    const message =
      code === 'ENOENT'
        ? `Nothing answers on ${withoutCredentials(defaultUrl)} and no redis-server binary was found (tried "${binary}"). ` +
          'To fix: install Redis (`apt-get install -y redis-server` on Debian/Ubuntu, `brew install redis` on macOS), ' +
          `${FIX_WITH_REDIS_URL}.`
        : `Nothing answers on ${withoutCredentials(defaultUrl)} and "${binary}" could not be started (${code}). ` +
          `To fix: point redisServerBinary at an executable redis-server, ${FIX_WITH_REDIS_URL}.`;
    throw new RedisUnavailableError(message, { cause: error });
  } finally {
    // The child holds its own copy of the descriptor.
    await log.close();
  }
}

/** Throws ENOENT (or EACCES, …) as spawning `binary` itself would: a path, or a name looked up on PATH. */
async function requireExecutable(binary: string): Promise<void> {
  const candidates = binary.includes('/')
    ? [binary]
    : (process.env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((folder) => join(folder, binary));
  let problem: unknown = Object.assign(new Error(`${binary} not found`), { code: 'ENOENT' });
  for (const candidate of candidates) {
    try {
      await access(candidate, fsConstants.X_OK);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') problem = error;
    }
  }
  throw problem;
}

async function waitUntilReady(child: ChildProcess, url: string, logFile: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new RedisUnavailableError(
        `The private redis-server exited (${child.signalCode ?? `code ${child.exitCode}`}) before answering PING. ` +
          `To fix: read its output below, ${FIX_WITH_REDIS_URL}.\n${await tail(logFile)}`,
      );
    }
    if (await answersPing(url)) return;
    await sleep(POLL_INTERVAL_MS);
  }
  throw new RedisUnavailableError(
    `The private redis-server at ${url} did not answer PING within ${START_TIMEOUT_MS} ms. ` +
      `To fix: read its output below, ${FIX_WITH_REDIS_URL}.\n${await tail(logFile)}`,
  );
}

async function answersPing(url: string): Promise<boolean> {
  return (await probe(url)).answers;
}

/**
 * One short-lived connection that never retries or queues, so a dead Redis costs at most ~0.5 s:
 * whether `url` answers PING, and if it refused the connection's credentials (none, here), how.
 */
async function probe(url: string): Promise<{ answers: boolean; refusal?: string }> {
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: PROBE_TIMEOUT_MS,
    // Something that accepts connections but is not Redis would otherwise hang the PING.
    commandTimeout: PROBE_TIMEOUT_MS,
  });
  let refusal: string | undefined;
  // Without a listener ioredis prints every refused connection as "Unhandled error event". A
  // Redis that wants a password refuses the connection's ready check there, then it closes.
  client.on('error', (err: Error) => {
    if (/^(NOAUTH|WRONGPASS)\b/.test(err.message)) refusal ??= err.message;
  });
  try {
    await client.connect();
    return { answers: (await client.ping()) === 'PONG' };
  } catch (err) {
    if (/^(NOAUTH|WRONGPASS)\b/.test((err as Error).message)) refusal ??= (err as Error).message;
    return { answers: false, ...(refusal === undefined ? {} : { refusal }) };
  } finally {
    client.disconnect();
  }
}

/**
 * Runs redis-server (`$2`…) and stops it with SIGTERM, then deletes its folder (`$1`), once this
 * process's end of the shell's stdin closes: when `terminate` ends it, and also when this process
 * is killed outright (SIGKILL, the OOM killer), which runs no `exit` handler. The server is the
 * shell's child, so the pid it signals is never another process's: it is not reaped before the
 * shell's `wait`. The shell exits with the server's status.
 */
const STOP_WITH_PARENT = `
dir=$1; shift
exec 3<&0
"$@" </dev/null &
server=$!
{ while read -r _; do :; done; kill -TERM "$server" 2>/dev/null; } <&3 3<&- &
watcher=$!
exec 3<&-
wait "$server"
status=$?
kill "$watcher" 2>/dev/null
rm -rf "$dir"
exit "$status"
`;

/** The shell, the server and its watcher: they lead a process group of their own (detached). */
function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Gone already.
  }
}

/** SIGTERM (by closing the shell's stdin) lets Redis flush its append-only file; SIGKILL only if it hangs. */
async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin?.destroy();
  const timer = setTimeout(() => killGroup(child), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

async function tail(file: string, lines = 20): Promise<string> {
  try {
    const text = (await readFile(file, 'utf8')).trimEnd();
    return text ? text.split('\n').slice(-lines).join('\n') : '(redis-server printed nothing)';
  } catch {
    return '(redis-server output could not be read)';
  }
}
