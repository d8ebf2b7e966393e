import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../fault/support/private-redis.js';
import { eventually, TEST_REDIS_ENV, testRedis } from '../support/redis.js';
import { exited } from '../support/worker-process.js';

const API_KEY = 'timeouts-key-0123456789abcdef';
const auth = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };

const children: ChildProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill('SIGKILL');
    await exited(child);
  }
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** `npm run start:api` as a real process; resolves with the URL it logged once listening. */
async function startApi(env: Record<string, string>): Promise<URL> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/api.ts'], {
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', API_KEY, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  let log = '';
  child.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  return new URL(
    await eventually(async () => /"api":"(http:\/\/[^"]+)"/.exec(log)?.[1], 30_000, 'the API to listen'),
  );
}

/** Resolves with what the server sent on a raw connection once it closes it, or 'still open'. */
function rawRequest(url: URL, text: string, waitMs: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ port: Number(url.port), host: url.hostname });
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('still open');
    }, waitMs);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
    socket.on('connect', () => socket.write(text));
  });
}

describe('the API process against a Redis that stops answering', () => {
  it('answers requests and /readyz 503 within API_REDIS_TIMEOUT_MS, not when TCP gives up', async () => {
    const redis: PrivateRedis = await startPrivateRedis();
    cleanups.push(() => redis.stop());
    const url = await startApi({
      // This private Redis alone, also in the Cluster run (whose environment names the Cluster).
      REDIS_URL: redis.url,
      REDIS_CLUSTER_NODES: '',
      REDIS_PREFIX: 'chorus-timeouts',
      API_REDIS_TIMEOUT_MS: '300',
    });
    expect((await fetch(`${url.origin}/readyz`)).status).toBe(200);

    // As a network partition: the connection stays up, and no answer comes back.
    const admin = new Redis(redis.port, '127.0.0.1');
    await admin.call('CLIENT', 'PAUSE', '6000', 'ALL');
    admin.disconnect();

    const started = Date.now();
    const [ready, track] = await Promise.all([
      fetch(`${url.origin}/readyz`),
      fetch(`${url.origin}/v1/track`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ userId: 'ada', event: 'Signed Up', messageId: 'partition-1' }),
      }),
    ]);
    // Without a command timeout both waited for the pause to end (for a real partition, many minutes).
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({
      status: 'unavailable',
      reason: expect.stringMatching(/Redis/),
    });
    expect(track.status).toBe(503);
    expect(track.headers.get('retry-after')).toBe('1');
    const { error } = (await track.json()) as { error: { code: string; requestId: string } };
    expect(error.code).toBe('CHORUS_UNAVAILABLE');
    expect(error.requestId).toBeTruthy();
  }, 60_000);
});

describe('the API process and a client that sends its request slowly', () => {
  it('answers 408 and closes the connection after REQUEST_TIMEOUT_MS, and takes a large batch sent at once', async () => {
    const ctx = testRedis();
    cleanups.push(() => ctx.cleanup());
    const url = await startApi({ ...TEST_REDIS_ENV, REDIS_PREFIX: ctx.prefix, REQUEST_TIMEOUT_MS: '500' });

    const head =
      'POST /v1/track HTTP/1.1\r\nHost: chorus\r\n' +
      `Authorization: Bearer ${API_KEY}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`;
    // A slowloris: the headers and a little of the body, then nothing for as long as it likes.
    const [stalledBody, stalledHeaders] = await Promise.all([
      rawRequest(url, `${head}{"userId":"ada",`, 4_000),
      rawRequest(url, 'POST /v1/track HTTP/1.1\r\nHost: chorus\r\nContent-Ty', 4_000),
    ]);
    // Without a request timeout both connections were still open (held for ever).
    for (const answer of [stalledBody, stalledHeaders]) {
      expect(answer).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as {
        error: { code: string; message: string };
      };
      expect(body.error.code).toBe('CHORUS_BAD_REQUEST');
      expect(body.error.message).toMatch(/REQUEST_TIMEOUT_MS/);
    }

    // A batch near the default 1 MiB BODY_LIMIT, sent at a normal speed, is taken.
    const batch = Array.from({ length: 1_000 }, (_, i) => ({
      type: 'track',
      userId: `bulk-${i % 50}`,
      event: 'Viewed Product',
      messageId: `bulk-${i}`,
      properties: { note: 'x'.repeat(800) },
    }));
    const body = JSON.stringify({ batch });
    expect(body.length).toBeGreaterThan(700_000);
    const answer = await fetch(`${url.origin}/v1/batch`, { method: 'POST', headers: auth, body });
    expect([answer.status, await answer.text()]).toEqual([200, expect.anything()]);
  }, 60_000);
});

describe('PORT=0 with PUBLIC_URL unset', () => {
  it('makes links to the port the API listens on', async () => {
    const ctx = testRedis();
    cleanups.push(() => ctx.cleanup());
    const url = await startApi({ ...TEST_REDIS_ENV, REDIS_PREFIX: ctx.prefix, DOUBLE_OPT_IN: 'true' });
    const answer = await fetch(`${url.origin}/v1/customers/ada/consent`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ channel: 'email', topic: 'marketing', granted: true }),
    });
    expect(answer.status).toBe(200);
    const { confirmUrl } = (await answer.json()) as { confirmUrl: string };
    // It was http://localhost:0/v1/consent/confirm?token=…, which no browser can open.
    expect(confirmUrl.startsWith(`http://localhost:${url.port}/v1/consent/confirm?token=`)).toBe(true);
    expect((await fetch(confirmUrl.replace('localhost', url.hostname))).status).toBe(200);
  }, 60_000);

  it('npm start makes the links of the emails it sends to the port it listens on', async () => {
    const ctx = testRedis();
    const outbox = mkdtempSync(join(tmpdir(), 'chorus-port-zero-'));
    cleanups.push(async () => {
      await ctx.cleanup();
      rmSync(outbox, { recursive: true, force: true });
    });
    const { PUBLIC_URL: _publicUrl, SMTP_URL: _smtpUrl, ...env } = process.env;
    const child = spawn(process.execPath, ['--import', 'tsx', 'workers/start.ts'], {
      env: {
        ...env,
        ...TEST_REDIS_ENV,
        REDIS_PREFIX: ctx.prefix,
        OUTBOX_DIR: outbox,
        PORT: '0',
        LOG_LEVEL: 'info',
        API_KEY,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    let log = '';
    child.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    const url = new URL(
      await eventually(async () => /"api":"(http:\/\/[^"]+)"/.exec(log)?.[1], 30_000, 'the API to listen'),
    );
    const answer = await fetch(`${url.origin}/v1/batch`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        batch: [
          { type: 'identify', userId: 'ada', traits: { email: 'ada@example.com' }, messageId: 'ada-1' },
          { type: 'track', userId: 'ada', event: 'Signed Up', messageId: 'ada-2' },
        ],
      }),
    });
    expect(answer.status).toBe(200);
    const emails = join(outbox, 'email');
    const file = await eventually(
      async () => existsSync(emails) && readdirSync(emails).find((name) => name.endsWith('.eml')),
      20_000,
      'the welcome email',
    );
    // Quoted-printable and folded header lines undone: the links as a mail client reads them.
    const text = readFileSync(join(emails, file), 'utf8').replaceAll(/=\r?\n|\r?\n[ \t]/g, '');
    // They were http://localhost:0/…, which no mail client can open.
    expect(text).not.toContain('localhost:0/');
    expect(text).toContain(`http://localhost:${url.port}/v1/unsubscribe?token=`);
  }, 60_000);

  it('refuses to start a delivery worker without the API, naming PUBLIC_URL', async () => {
    const ctx = testRedis();
    cleanups.push(() => ctx.cleanup());
    const { PUBLIC_URL: _publicUrl, ...env } = process.env;
    const child = spawn(process.execPath, ['--import', 'tsx', 'workers/worker.ts'], {
      env: { ...env, ...TEST_REDIS_ENV, REDIS_PREFIX: ctx.prefix, PORT: '0' },
      stdio: ['ignore', 'ignore', 'pipe'],
      // Ended, not left running, where it does not end by itself.
      timeout: 20_000,
      killSignal: 'SIGKILL',
    });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    expect(await exited(child)).toEqual({ code: 1, signal: null });
    expect(stderr).toMatch(/PUBLIC_URL/);
    expect(stderr).toMatch(/PORT=0/);
  }, 60_000);
});
