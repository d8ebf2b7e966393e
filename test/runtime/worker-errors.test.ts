import { Queue, Worker } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../engine/logger.js';
import {
  isConnectionError,
  isLostLock,
  lapsedLockJobId,
  logWorkerError,
  workerErrorHandler,
} from '../../engine/runtime/worker-errors.js';
import { testRedis } from '../support/redis.js';

/** A logger that keeps what it was told, by level. */
function keepingLogger() {
  const lines: { level: string; msg: string | undefined }[] = [];
  const at =
    (level: string) =>
    (_obj: object, msg?: string): void => {
      lines.push({ level, msg });
    };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

describe("a worker's error event", () => {
  let ctx: ReturnType<typeof testRedis>;
  let queue: Queue;
  let worker: Worker;

  beforeEach(() => {
    ctx = testRedis();
    // A hash tag, as the engine's queues use, so BullMQ's keys share a slot on a Redis Cluster.
    const prefix = `{${ctx.prefix}}`;
    queue = new Queue('lock', { connection: ctx.redis, prefix });
    // Jobs are taken by hand, so the test holds the lock token and can finish the job with another.
    worker = new Worker('lock', null, { connection: ctx.redis, prefix, autorun: false });
  });

  afterEach(async () => {
    await worker.close();
    await queue.close();
    await ctx.cleanup();
  });

  /** The error BullMQ gives a run that finishes a job whose lock it no longer holds. */
  async function lostLockError(): Promise<Error> {
    await queue.add('ping', {});
    const job = await worker.getNextJob('first-run');
    if (!job) throw new Error('no job fetched');
    // The stalled check gave the job to another run: its lock now has another token.
    return job.moveToCompleted('done', 'a-run-that-lost-its-lock', false).then(
      () => {
        throw new Error('moveToCompleted did not refuse');
      },
      (err: Error) => err,
    );
  }

  it("is a warning when a run finished after its job's lock lapsed, since the run holding the job now finishes it", async () => {
    const err = await lostLockError();
    expect(isLostLock(err)).toBe(true);
    const { logger, lines } = keepingLogger();
    logWorkerError(logger, err, { channel: 'email' }, 'delivery worker');
    expect(lines).toEqual([
      { level: 'warn', msg: 'delivery worker: a run finished after its job was taken back (lock lapsed)' },
    ]);
  });

  it("is a warning when a running job's lock lapsed before its renewal, since the stalled check re-runs the job", async () => {
    const prefix = `{${ctx.prefix}}`;
    let finish = () => {};
    const lapseQueue = new Queue('lapse', { connection: ctx.redis, prefix });
    const running = new Worker('lapse', () => new Promise<void>((resolve) => (finish = resolve)), {
      connection: ctx.redis,
      prefix,
      lockDuration: 1000,
    });
    const lapsed = new Promise<Error>((resolve) => running.once('error', resolve));
    try {
      const started = new Promise((resolve) => running.once('active', resolve));
      await lapseQueue.add('ping', {}, { jobId: 'slow-one' });
      await started;
      // The lock expired while the run was busy: the lock manager's next renewal finds none.
      await ctx.redis.del(`${prefix}:lapse:slow-one:lock`);
      const err = await lapsed;
      expect(lapsedLockJobId(err)).toBe('slow-one');
      const { logger, lines } = keepingLogger();
      logWorkerError(logger, err, { channel: 'email' }, 'delivery worker');
      expect(lines).toEqual([
        {
          level: 'warn',
          msg:
            'delivery worker: the lock of a running job lapsed before it was renewed; the stalled check will re-run it ' +
            '(if this repeats, the process is starved of CPU or LOCK_DURATION_MS is too short)',
        },
      ]);
    } finally {
      finish();
      await running.close();
      await lapseQueue.close();
    }
  });

  it('is an error otherwise', () => {
    const { logger, lines } = keepingLogger();
    logWorkerError(logger, new Error('connection reset'), {}, 'journey worker');
    expect(lines).toEqual([{ level: 'error', msg: 'journey worker error' }]);
  });
});

describe('a worker whose Redis connection is lost', () => {
  const refused = () =>
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });

  it('warns once per interval, counting the errors left out, and logs other errors as before', () => {
    const { logger, lines } = keepingLogger();
    let now = 0;
    const onError = workerErrorHandler(logger, {}, 'journey worker', { everyMs: 30_000, now: () => now });
    // BullMQ emits one for each command and blocking call while Redis is away: many a second.
    for (let i = 0; i < 200; i++) {
      onError(i % 2 === 0 ? refused() : new Error('Connection is closed.'));
      now += 250;
    }
    expect(lines).toEqual([
      { level: 'warn', msg: expect.stringContaining('journey worker: its Redis connection is lost') },
      { level: 'warn', msg: expect.stringContaining('journey worker: its Redis connection is lost') },
    ]);
    onError(new Error('something else'));
    expect(lines.at(-1)).toEqual({ level: 'error', msg: 'journey worker error' });
  });

  it('tells connection errors from the rest', () => {
    expect(isConnectionError(refused())).toBe(true);
    expect(isConnectionError(new Error('Connection is closed.'))).toBe(true);
    expect(isConnectionError(new Error('connection reset'))).toBe(false);
    expect(isConnectionError(undefined)).toBe(false);
  });
});
