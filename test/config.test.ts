import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../engine/index.js';

describe('configuration from the environment', () => {
  it('has defaults that run the engine on embedded defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      REDIS_PREFIX: 'chorus',
      TIME_SCALE: 1,
      OUTBOX_DIR: 'outbox',
      WORKER_ROLES: ['journeys', 'deliveries'],
    });
    expect(config.SMTP_URL).toBeUndefined();
  });

  it('parses rates, roles and flags', () => {
    const config = loadConfig({
      RATE_LIMIT_SMS: '10/1s',
      WORKER_ROLES: 'journeys',
      WEBHOOK_ALLOW_PRIVATE: 'true',
      TIME_SCALE: '86400',
    });
    expect(config.RATE_LIMIT_SMS).toEqual({ max: 10, duration: 1000 });
    expect(config.WORKER_ROLES).toEqual(['journeys']);
    expect(config.WEBHOOK_ALLOW_PRIVATE).toBe(true);
    expect(config.TIME_SCALE).toBe(86_400);
  });

  it('stops start-up naming each bad variable and what was expected', () => {
    const load = () =>
      loadConfig({
        TIME_SCALE: 'fast',
        REDIS_URL: 'http://x',
        RATE_LIMIT_EMAIL: '10 per second',
        WORKER_ROLES: 'api',
      });
    expect(load).toThrow(ConfigError);
    try {
      load();
    } catch (error) {
      expect((error as ConfigError).variables.map((v) => v.name).sort()).toEqual([
        'RATE_LIMIT_EMAIL',
        'REDIS_URL',
        'TIME_SCALE',
        'WORKER_ROLES',
      ]);
      expect((error as ConfigError).message).toMatch(/REDIS_URL: a redis:\/\/ or rediss:\/\/ URL/);
    }
  });
});

describe('provider settings', () => {
  it('must be given whole, so production SMS never lands in the outbox by accident', () => {
    expect(() => loadConfig({ TWILIO_ACCOUNT_SID: 'AC1', TWILIO_AUTH_TOKEN: 't' })).toThrow(
      /SMS_FROM: Twilio SMS is half configured \(TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN set\)/,
    );
    expect(
      loadConfig({ TWILIO_ACCOUNT_SID: 'AC1', TWILIO_AUTH_TOKEN: 't', SMS_FROM: '+15550100' }).SMS_FROM,
    ).toBe('+15550100');
  });
});
