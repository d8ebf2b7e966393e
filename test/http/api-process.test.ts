import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInAppToken, shardOf } from '../../engine/index.js';
import { exited } from '../support/worker-process.js';
import { eventually, TEST_REDIS_ENV, testRedis } from '../support/redis.js';

/**
 * `npm start` as a user runs it: one real process serving the API and running every worker, with
 * no secrets configured. Its output is a pipe, not a terminal, so the API key it makes up is
 * read from its log, as from a log file. Its queues are in two shards (QUEUE_SHARDS), which the
 * API's routes and metrics must follow as the workers do.
 */
describe('npm start', () => {
  const ctx = testRedis();
  const outbox = mkdtempSync(join(tmpdir(), 'chorus-start-'));
  const { API_KEY: _configured, DASHBOARD_PASSWORD: _password, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/start.ts'], {
    env: {
      ...inherited,
      ...TEST_REDIS_ENV,
      REDIS_PREFIX: ctx.prefix,
      OUTBOX_DIR: outbox,
      PORT: '0',
      LOG_LEVEL: 'info',
      QUEUE_SHARDS: '2',
      IN_APP_TOKEN_SECRET: 'process-in-app-secret',
      IN_APP_TOKEN_PREVIOUS_SECRETS: 'old-process-in-app-secret',
      IN_APP_CORS_ORIGINS: 'https://app.example.com',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let url = '';
  let API_KEY = '';

  beforeAll(async () => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    url = await eventually(
      async () => /"api":"(http:\/\/[^"]+)"/.exec(output)?.[1],
      20_000,
      'the API to listen',
    );
    API_KEY = await eventually(
      async () => /"madeUp":\{[^}]*"API_KEY":"(chorus_[^"]+)"/.exec(output)?.[1],
      5_000,
      'the made-up API key in the log',
    );
  }, 30_000);
  afterAll(async () => {
    // Exited before the keys go: an engine still running would re-create some after the cleanup.
    child.kill('SIGKILL');
    await exited(child);
    rmSync(outbox, { recursive: true, force: true });
    await ctx.cleanup();
  });

  const call = (path: string, body?: unknown) =>
    fetch(`${url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it("lets an app read its customer's inbox with an in-app token, from the allowed origin", async () => {
    const tokenOf = (secret: string) => createInAppToken(secret, 'ada');
    for (const secret of ['process-in-app-secret', 'old-process-in-app-secret']) {
      const answer = await fetch(`${url}/v1/customers/ada/in-app`, {
        headers: { authorization: `Bearer ${tokenOf(secret)}`, origin: 'https://app.example.com' },
      });
      expect(answer.status, secret).toBe(200);
      expect(answer.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    }
    const forged = await fetch(`${url}/v1/customers/ada/in-app`, {
      headers: { authorization: `Bearer ${tokenOf('not-the-process-secret')}` },
    });
    expect(forged.status).toBe(401);
    const preflight = await fetch(`${url}/v1/customers/ada/in-app`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
  });

  it('takes events over HTTP, sends the welcome email to the outbox, and stops cleanly on SIGTERM', async () => {
    expect(
      (await call('/v1/identify', { userId: 'ada', traits: { firstName: 'Ada', email: 'ada@example.com' } }))
        .status,
    ).toBe(200);
    expect(
      (await call('/v1/track', { userId: 'ada', event: 'Signed Up', properties: { plan: 'pro' } })).status,
    ).toBe(200);
    const customer = await eventually(async () => {
      const body = (await (await call('/v1/customers/ada')).json()) as {
        messages?: Array<{ status: string }>;
      };
      return body.messages?.some((m) => m.status === 'sent') ? body : undefined;
    }, 15_000);
    expect(customer).toMatchObject({
      journeys: [{ journeyId: 'yue-tea-lifecycle' }],
      messages: [{ message: 'welcome', channel: 'email' }],
    });
    expect(readdirSync(join(outbox, 'email')).filter((f) => f.endsWith('.eml'))).toHaveLength(1);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    // The welcome went through the email queue of Ada's shard, and the metrics show both shards.
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const emailQueue = shardOf('ada', 2) === 0 ? 'deliveries-email' : 'deliveries-email-1';
    expect(metrics).toContain(`chorus_jobs_finished_total{queue="${emailQueue}",outcome="completed"} 1`);
    expect(metrics).toContain('chorus_jobs_finished_total{queue="journeys-1",outcome="completed"}');
    child.kill('SIGTERM');
    expect(await exited(child)).toEqual({ code: 0, signal: null });
  }, 30_000);
});
