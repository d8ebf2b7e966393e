import { describe, expect, it } from 'vitest';
import {
  allowAll,
  createDefaultPolicy,
  createEngine,
  FrequencyCapRules,
  PolicyConfigError,
  QuietHoursWindow,
  respectfulSending,
  type DeliveryOptions,
} from '../../engine/index.js';
import { testRedis } from '../support/redis.js';
import { sendJob } from './send-job.js';

describe('respectfulSending: the time rules from configuration, in chain order', () => {
  it('gives nothing when neither caps nor quiet hours are configured', () => {
    expect(
      respectfulSending({ redis: undefined as never, prefix: 'p', caps: [], defaultTimezone: 'UTC' }),
    ).toEqual([]);
  });

  it('puts quiet hours first and caps last, each built from its setting', async () => {
    const ctx = testRedis();
    try {
      const [quiet, caps] = respectfulSending({
        redis: ctx.redis,
        prefix: ctx.prefix,
        caps: FrequencyCapRules.parse('marketing:1/1d'),
        quietHours: QuietHoursWindow.parse('21:00-08:00'),
        defaultTimezone: 'Asia/Shanghai',
      });
      const input = {
        job: sendJob(),
        channel: 'email' as const,
        traits: {},
        now: Date.parse('2026-06-01T14:00:00Z'),
      };
      expect(quiet!.name).toBe('quiet-hours');
      expect(caps!.name).toBe('frequency-cap');
      expect(await quiet!.policy.check(input)).toMatchObject({ action: 'delay' }); // 22:00 in Shanghai
      expect(await caps!.policy.check({ ...input, now: Date.parse('2026-06-02T00:00:00Z') })).toEqual({
        action: 'send',
      });
    } finally {
      await ctx.cleanup();
    }
  });
});

describe('the default policy with the time rules', () => {
  it('runs them after suppression and consent, naming the rule that held a send', async () => {
    const ctx = testRedis();
    try {
      const policy = createDefaultPolicy({
        redis: ctx.redis,
        prefix: ctx.prefix,
        timing: respectfulSending({
          redis: ctx.redis,
          prefix: ctx.prefix,
          caps: [],
          quietHours: QuietHoursWindow.parse('21:00-08:00'),
          defaultTimezone: 'UTC',
        }),
      });
      const decision = await policy.check({
        job: sendJob(),
        channel: 'email',
        traits: { email: 'ada@example.com' },
        now: Date.parse('2026-06-01T23:00:00Z'),
        topic: 'marketing',
        address: { email: 'ada@example.com' },
      });
      expect(decision).toMatchObject({
        action: 'delay',
        rule: 'quiet-hours',
        untilMs: Date.parse('2026-06-02T08:00:00Z'),
      });
    } finally {
      await ctx.cleanup();
    }
  });
});

describe("the time rules beside a policy of the caller's own", () => {
  it('refuses them, as that policy replaces the default one they would run in', async () => {
    const ctx = testRedis();
    try {
      const timing = respectfulSending({
        redis: ctx.redis,
        prefix: ctx.prefix,
        caps: FrequencyCapRules.parse('marketing:1/1d'),
        quietHours: QuietHoursWindow.parse('21:00-08:00'),
        defaultTimezone: 'UTC',
      });
      const make = (delivery: Pick<DeliveryOptions, 'policy' | 'timing'>) =>
        createEngine({
          redis: ctx.redis,
          prefix: ctx.prefix,
          journeys: [],
          messages: { has: () => false },
          delivery: {
            renderer: undefined as never,
            messages: { get: () => undefined },
            adapters: {},
            unsubscribe: { baseUrl: 'https://x.test', secret: 's'.repeat(16) },
            ...delivery,
          },
        });
      const thrown = (() => {
        try {
          make({ policy: allowAll, timing });
        } catch (error) {
          return error;
        }
      })();
      expect(thrown).toBeInstanceOf(PolicyConfigError);
      expect(thrown).toMatchObject({ code: 'CHORUS_POLICY_CONFIG_INVALID', option: 'delivery.timing' });
      // Either alone is fine, and so is an empty list beside a policy.
      for (const delivery of [{ policy: allowAll }, { timing }, { policy: allowAll, timing: [] }])
        await make(delivery).close();
    } finally {
      await ctx.cleanup();
    }
  });
});
