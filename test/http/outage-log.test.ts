import { Writable } from 'node:stream';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { API_REDIS_OPTIONS, resolveRedis, type ResolvedRedis } from '../../engine/index.js';
import { freePort } from '../../engine/free-port.js';
import { installErrorHandler } from '../../engine/http/error-handler.js';
import { OutageLog } from '../../engine/http/outage-log.js';
import { onboarding } from '../fixtures/journeys/onboarding.js';
import { httpHarness, type HttpHarness } from '../support/http.js';
import { testConnection } from '../support/redis.js';

interface LogLine {
  level: number;
  msg: string;
  code?: string;
  outage?: string;
  unloggedSince?: number;
  cause?: string;
  err?: { stack?: string };
}

/** A pino logger whose lines are kept, as the JSON a log collector would store. */
function keptLog() {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const logger = pino({ level: 'info' }, stream);
  /** The lines at warn or above: what an operator is alerted on. */
  const alerts = () => lines.filter((line) => line.level >= 40);
  return { lines, alerts, logger };
}

const WARN = 40;
const ERROR = 50;

describe('the log of a Redis outage', () => {
  let h: HttpHarness | undefined;
  let privateRedis: ResolvedRedis | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
    await privateRedis?.stop();
    privateRedis = undefined;
  });

  it('tells of the 503s while Redis is away once, at warn and without a stack, not once per request', async () => {
    const { alerts, logger } = keptLog();
    privateRedis = await resolveRedis({ defaultUrl: 'redis://127.0.0.1:1' });
    h = await httpHarness({ journeys: [onboarding], workers: false, apiRedisUrl: privateRedis.url, logger });
    await privateRedis.stop();
    const track = { method: 'POST' as const, url: '/v1/track', payload: { userId: 'z', event: 'Signed Up' } };
    for (let i = 0; i < 20; i++) {
      const answer = await h.app.inject({ ...track, headers: h.auth });
      expect(answer.statusCode).toBe(503);
    }
    expect((await h.app.inject({ url: '/v1/journeys', headers: h.auth })).statusCode).toBe(503);

    expect(alerts()).toHaveLength(1);
    const [line] = alerts();
    expect(line).toMatchObject({ level: WARN, code: 'CHORUS_UNAVAILABLE', outage: 'redis-away' });
    expect(line?.msg).toMatch(/Redis is not reachable right now/);
    expect(line?.err).toBeUndefined();
    expect(JSON.stringify(line)).not.toMatch(/\n\s+at /);
  });
});

describe('the error log of the HTTP API', () => {
  const closed: Redis[] = [];
  afterEach(() => {
    for (const redis of closed.splice(0)) redis.disconnect();
  });

  /** An app whose Redis is `redis`, with routes that fail as a lost Redis and as a bug do. */
  function appOn(redis: Redis, outageLog: OutageLog) {
    const { alerts, logger } = keptLog();
    const app = Fastify({ loggerInstance: logger as FastifyBaseLogger });
    installErrorHandler(app, redis, { outageLog });
    app.post('/v1/batch', async () => {
      throw new Error('Connection is closed.');
    });
    app.get('/v1/bug', async () => {
      throw new TypeError("Cannot read properties of undefined (reading 'rev')");
    });
    return { app, alerts };
  }

  it('tells of requests that lost Redis at warn once per interval, with how many went unlogged since', async () => {
    // A Redis that is not there: the connection retries, never ready.
    const away = new Redis({ ...API_REDIS_OPTIONS, port: await freePort(), host: '127.0.0.1' });
    away.on('error', () => undefined);
    closed.push(away);
    let now = 0;
    const { app, alerts } = appOn(away, new OutageLog({ now: () => now, intervalMs: 10_000 }));
    for (let i = 0; i < 3; i++)
      expect((await app.inject({ method: 'POST', url: '/v1/batch' })).statusCode).toBe(503);
    now += 9_999;
    expect((await app.inject({ method: 'POST', url: '/v1/batch' })).statusCode).toBe(503);
    expect(alerts()).toHaveLength(1);
    now += 1;
    expect((await app.inject({ method: 'POST', url: '/v1/batch' })).statusCode).toBe(503);
    await app.close();

    expect(alerts()).toMatchObject([
      { level: WARN, code: 'CHORUS_UNAVAILABLE', outage: 'redis-lost', cause: 'Connection is closed.' },
      { level: WARN, code: 'CHORUS_UNAVAILABLE', outage: 'redis-lost', unloggedSince: 3 },
    ]);
    expect(alerts()[0]?.unloggedSince).toBeUndefined();
    expect(alerts().some((line) => line.err !== undefined)).toBe(false);
  });

  it('still logs an unexpected failure at error with its stack, each time, during an outage too', async () => {
    const ready = testConnection();
    await ready.ping();
    closed.push(ready as Redis);
    const { app, alerts } = appOn(ready as Redis, new OutageLog());
    for (let i = 0; i < 2; i++) expect((await app.inject('/v1/bug')).statusCode).toBe(500);
    await app.close();
    expect(alerts()).toHaveLength(2);
    for (const line of alerts()) {
      expect(line.level).toBe(ERROR);
      expect(line.err?.stack).toMatch(/TypeError: Cannot read properties of undefined[\s\S]*\n\s+at /);
    }

    // While Redis is away, a failure that is no lost connection is answered 503, but logged as the
    // bug it may be.
    const away = new Redis({ ...API_REDIS_OPTIONS, port: await freePort(), host: '127.0.0.1' });
    away.on('error', () => undefined);
    closed.push(away);
    const during = appOn(away, new OutageLog());
    expect((await during.app.inject('/v1/bug')).statusCode).toBe(503);
    await during.app.close();
    expect(during.alerts()).toMatchObject([
      { level: ERROR, err: { stack: expect.stringMatching(/TypeError/) } },
    ]);
  });
});
