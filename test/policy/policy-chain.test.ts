import { describe, expect, it } from 'vitest';
import {
  chainPolicies,
  defaultConsent,
  type DeliveryPolicy,
  type PolicyDecision,
} from '../../engine/index.js';
import { nudgeJob as job } from '../support/policy.js';

const fixed = (decision: PolicyDecision, calls: string[], name: string): DeliveryPolicy => ({
  check: async () => {
    calls.push(name);
    return decision;
  },
});

describe('a policy chain', () => {
  const input = { job, channel: 'email' as const, traits: {}, now: 0 };

  it('runs rules in order and lets the first decision other than send win, naming its rule', async () => {
    const calls: string[] = [];
    const chain = chainPolicies([
      { name: 'a', policy: fixed({ action: 'send' }, calls, 'a') },
      { name: 'b', policy: fixed({ action: 'reroute', reason: 'no' }, calls, 'b') },
      { name: 'c', policy: fixed({ action: 'skip', reason: 'never asked' }, calls, 'c') },
    ]);
    expect(await chain.check(input)).toEqual({ action: 'reroute', reason: 'no', rule: 'b' });
    expect(calls).toEqual(['a', 'b']);
  });

  it('tells every rule that can give something back of a send that did not go out', async () => {
    const released: string[] = [];
    const releasing = (name: string): DeliveryPolicy => ({
      check: async () => ({ action: 'send' }),
      release: async ({ job: sent }) => void released.push(`${name}:${sent.opId}`),
    });
    const chain = chainPolicies([
      { name: 'a', policy: releasing('a') },
      { name: 'plain', policy: fixed({ action: 'send' }, [], 'plain') },
      { name: 'nested', policy: chainPolicies([{ name: 'b', policy: releasing('b') }]) },
    ]);
    await chain.release!({ job, channel: 'email', now: 0 });
    expect(released.sort()).toEqual([`a:${job.opId}`, `b:${job.opId}`]);
  });

  it('sends when every rule says send, and keeps a rule name a nested chain already set', async () => {
    const calls: string[] = [];
    expect(
      await chainPolicies([{ name: 'a', policy: fixed({ action: 'send' }, calls, 'a') }]).check(input),
    ).toEqual({ action: 'send' });
    const nested = chainPolicies([
      {
        name: 'timing',
        policy: fixed({ action: 'delay', untilMs: 5, reason: 'night', rule: 'quiet-hours' }, calls, 't'),
      },
    ]);
    expect(await nested.check(input)).toMatchObject({ action: 'delay', rule: 'quiet-hours' });
  });
});

describe('consent with no record', () => {
  it.each([
    ['email', 'marketing', false, true],
    ['email', 'marketing', true, false],
    ['sms', 'marketing', false, false],
    ['push', 'marketing', true, true],
    ['in-app', 'marketing', false, true],
    ['sms', 'transactional', false, true],
    ['email', 'transactional', true, true],
  ] as const)('%s %s with double opt-in %s is allowed: %s', (channel, topic, doubleOptIn, allowed) => {
    expect(defaultConsent(channel, topic, { doubleOptIn }).allowed).toBe(allowed);
  });
});
