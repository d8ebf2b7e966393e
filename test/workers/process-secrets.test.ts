import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, defineWebhookSource, loadConfig } from '../../engine/index.js';
import { resolveSecrets } from '../../workers/process-secrets.js';
import { devSecretsKey } from '../../workers/shared-dev-secrets.js';
import { testRedis } from '../support/redis.js';

const shop = defineWebhookSource({ id: 'shop', payload: z.object({}), toTrack: () => undefined });
const API = { api: true };
const WORKER = { api: false };

describe('secrets a process resolves at start-up', () => {
  const ctx = testRedis();
  const other = testRedis();
  const configured = testRedis();
  const production = testRedis();
  afterAll(async () => {
    for (const each of [ctx, other, configured, production]) await each.cleanup();
  });
  const development = (prefix: string, env: Record<string, string> = {}) =>
    loadConfig({ NODE_ENV: 'development', REDIS_PREFIX: prefix, ...env });

  it('makes up each missing secret once per prefix, so an API and a worker process starting together agree', async () => {
    const config = development(ctx.prefix);
    // Two connections, as two processes would have.
    const [api, worker] = await Promise.all([
      resolveSecrets(config, [shop], API, ctx.redis),
      resolveSecrets(config, [shop], WORKER, other.redis),
    ]);
    expect(Object.keys(api.generated).sort()).toEqual([
      'API_KEY',
      'DASHBOARD_PASSWORD',
      'UNSUBSCRIBE_SECRET',
      'WEBHOOK_SOURCE_SECRETS (shop)',
    ]);
    expect(worker).toEqual(api);
    expect(api.sharedAt).toBe(devSecretsKey(ctx.prefix));
    expect(api.apiKeys[0]).toMatch(/^chorus_/);
    expect(api.webhookSecrets.shop?.[0]).toMatch(/^whsec_/);
    expect(api.unsubscribeSecret.length).toBeGreaterThanOrEqual(16);
  });

  it('gives a process started later, as after a restart, the secrets made up before', async () => {
    const first = await resolveSecrets(development(ctx.prefix), [shop], API, ctx.redis);
    const restarted = await resolveSecrets(development(ctx.prefix), [shop], API, other.redis);
    expect(restarted.generated).toEqual(first.generated);
  });

  it('makes up other secrets for another prefix', async () => {
    const mine = await resolveSecrets(development(ctx.prefix), [shop], API, ctx.redis);
    const theirs = await resolveSecrets(development(other.prefix), [shop], API, other.redis);
    for (const name of Object.keys(mine.generated))
      expect(theirs.generated[name], name).not.toBe(mine.generated[name]);
  });

  it('uses a configured secret as it is and shares only what is missing', async () => {
    const { prefix, redis } = configured;
    const secret = 'a-configured-unsubscribe-secret';
    const secrets = await resolveSecrets(
      development(prefix, { UNSUBSCRIBE_SECRET: secret, API_KEY: 'a-configured-api-key' }),
      [],
      API,
      redis,
    );
    expect(secrets.unsubscribeSecret).toBe(secret);
    expect(secrets.apiKeys).toEqual(['a-configured-api-key']);
    expect(Object.keys(secrets.generated)).toEqual(['DASHBOARD_PASSWORD']);
    expect(await redis.hkeys(devSecretsKey(prefix))).toEqual(['DASHBOARD_PASSWORD']);
  });

  it('refuses to start in production without them, and writes nothing to Redis', async () => {
    const { prefix, redis } = production;
    const config = loadConfig({ NODE_ENV: 'production', REDIS_PREFIX: prefix });
    const refusal = resolveSecrets(config, [shop], API, redis);
    await expect(refusal).rejects.toThrow(ConfigError);
    expect(((await refusal.catch((e: unknown) => e)) as ConfigError).variables.map((v) => v.name)).toEqual([
      'API_KEY',
      'DASHBOARD_PASSWORD',
      'UNSUBSCRIBE_SECRET',
      'WEBHOOK_SOURCE_SECRETS',
    ]);
    // A worker alone needs only the unsubscribe secret.
    await expect(resolveSecrets(config, [shop], WORKER, redis)).rejects.toMatchObject({
      variables: [{ name: 'UNSUBSCRIBE_SECRET' }],
    });
    const worker = await resolveSecrets(
      loadConfig({ NODE_ENV: 'production', REDIS_PREFIX: prefix, UNSUBSCRIBE_SECRET: 'x'.repeat(16) }),
      [shop],
      WORKER,
      redis,
    );
    expect(worker.sharedAt).toBeUndefined();
    expect(await redis.exists(devSecretsKey(prefix))).toBe(0);
  });
});
