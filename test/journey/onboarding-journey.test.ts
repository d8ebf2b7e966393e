import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createJourneyHarness, CoreMessageCatalog, defineJourney } from '../../engine/index.js';
import { onboarding } from '../fixtures/journeys/onboarding.js';
import { customerInVariant } from '../support/variants.js';

const messages = CoreMessageCatalog.fromDirectory('templates');

const customerIn = (variant: string, salt?: string) => customerInVariant(variant, salt);

describe('the onboarding journey', () => {
  it('welcomes a new sign-up by email and waits in consideration', () => {
    const h = createJourneyHarness(onboarding, { messages });
    const id = customerIn('tips');
    h.track(id, 'Signed Up', { plan: 'pro' });
    expect(h.sent(id).map((s) => [s.message, s.channels])).toEqual([['welcome', ['email']]]);
    expect(h.state(id)).toBe('browsing');
    expect(h.stage(id)).toBe('consideration');
    expect(h.instance(id)?.variants).toEqual({ tips: 'tips' });
  });

  it('nudges by SMS after two days when the profile has a phone, by email otherwise', () => {
    const h = createJourneyHarness(onboarding, { messages });
    const withPhone = customerIn('tips');
    h.identify(withPhone, { phone: '+15550100' });
    h.track(withPhone, 'Signed Up', {});
    h.advance('47h');
    expect(h.sent(withPhone)).toHaveLength(1);
    h.advance('1h');
    expect(h.sent(withPhone).map((s) => [s.message, s.channels])).toEqual([
      ['welcome', ['email']],
      ['nudge', ['sms']],
    ]);
  });

  it('removes a trait that identify sets to null, as Segment does', () => {
    const h = createJourneyHarness(onboarding, { messages });
    h.identify('u1', { phone: '+15550100', firstName: 'Mei' });
    h.identify('u1', { phone: null });
    expect(h.profile('u1')).toEqual({ firstName: 'Mei' });
  });

  it('takes the product-viewed branch before the timeout and cancels the nudge timer', () => {
    const h = createJourneyHarness(onboarding, { messages });
    const id = customerIn('tips');
    h.track(id, 'Signed Up');
    h.advance('1d');
    h.track(id, 'Product Viewed', { name: 'Jasmine Pearl' });
    expect(h.state(id)).toBe('interested');
    expect(h.pendingTimers(id).map((t) => t.eventType)).toEqual(['xstate.after.4h.onboarding.interested']);
    h.advance('4h');
    expect(h.instance(id)).toMatchObject({ status: 'done', exitReason: 'lapsed', stage: 'decision' });
    expect(h.sent(id).map((s) => s.message)).toEqual(['welcome', 'product-spotlight']);
  });

  it('rejects an event whose properties do not match its schema, naming the field', () => {
    const h = createJourneyHarness(onboarding, { messages });
    const id = customerIn('tips');
    h.track(id, 'Signed Up');
    h.track(id, 'Product Viewed', { name: 42 });
    expect(h.state(id)).toBe('browsing');
    expect(h.notes(id).at(-1)).toMatchObject({
      kind: 'rejected',
      reason: expect.stringContaining('properties.name'),
    });
  });

  it('records the goal and moves the customer to loyalty from any earlier stage', () => {
    const h = createJourneyHarness(onboarding, { messages });
    const id = customerIn('tips');
    h.track(id, 'Signed Up');
    h.track(id, 'Order Completed', { revenue: 30 });
    expect(h.instance(id)).toMatchObject({ state: 'customer', stage: 'loyalty', convertedAt: h.clock.now() });
    expect(h.pendingTimers(id)).toHaveLength(1);
    h.advance('7d');
    expect(h.instance(id)).toMatchObject({ status: 'done', exitReason: 'completed' });
  });

  it('keeps a holdout customer out of every message after the welcome', () => {
    const h = createJourneyHarness(onboarding, { messages });
    const id = customerIn('holdout');
    h.track(id, 'Signed Up');
    h.advance('10d');
    expect(h.instance(id)).toMatchObject({ variants: { tips: 'holdout' }, exitReason: 'lapsed' });
    expect(h.sent(id).map((s) => s.message)).toEqual(['welcome']);
  });

  it('exits at once on an exit event and cancels pending timers', () => {
    const h = createJourneyHarness(onboarding, { messages });
    const id = customerIn('tips');
    h.track(id, 'Signed Up');
    h.track(id, 'Account Deleted');
    expect(h.instance(id)).toMatchObject({ status: 'done', exitReason: 'exit:Account Deleted' });
    expect(h.pendingTimers(id)).toEqual([]);
  });

  it('lets a customer re-enter only after the previous run has exited', () => {
    const h = createJourneyHarness(onboarding, { messages });
    const id = customerIn('tips');
    h.track(id, 'Signed Up');
    h.track(id, 'Signed Up');
    expect(h.instances(id)).toHaveLength(1);
    expect(h.notes(id).at(-1)).toMatchObject({ kind: 'not-entered' });
    h.advance('4d');
    h.track(id, 'Signed Up');
    expect(h.instances(id).map((i) => [i.instanceId, i.status])).toEqual([
      ['onboarding.1', 'done'],
      ['onboarding.2', 'active'],
    ]);
  });

  it('does not enter a customer whose trigger properties are invalid', () => {
    const h = createJourneyHarness(onboarding, { messages });
    h.track('u-bad', 'Signed Up', { plan: 'platinum' });
    expect(h.instances('u-bad')).toEqual([]);
    expect(h.notes('u-bad')[0]).toMatchObject({
      kind: 'not-entered',
      reason: expect.stringContaining('properties.plan'),
    });
  });

  it('ignores an event whose name is a property every object has, as any undeclared event', () => {
    const h = createJourneyHarness(onboarding, { messages });
    const id = customerIn('tips');
    h.track(id, 'Signed Up');
    const before = h.notes(id).length;
    for (const name of ['constructor', 'toString', 'hasOwnProperty']) h.track(id, name);
    expect(h.notes(id).slice(before)).toEqual([]);
    expect(h.state(id)).toBe('browsing');
  });
});

describe('an instance that cannot take its timer', () => {
  it('fails visibly with the reason instead of waiting forever', () => {
    // A trait of another type is read as missing; one the profile schema requires cannot be.
    const needsEmail = defineJourney({
      id: 'needs-email',
      version: 1,
      trigger: { event: 'Signed Up' },
      profile: z.object({ email: z.string() }),
      machine: (j) =>
        j.createMachine({
          initial: 'waiting',
          states: {
            waiting: { tags: 'awareness', after: { '2d': 'done' } },
            done: { tags: 'awareness', type: 'final' },
          },
        }),
    });
    const h = createJourneyHarness(needsEmail);
    const id = 'ada';
    h.identify(id, { email: 'ada@example.com' });
    h.track(id, 'Signed Up');
    h.identify(id, { email: 42 });
    h.advance('2d');
    expect(h.instance(id)).toMatchObject({ status: 'failed', exitReason: 'error' });
    expect(h.pendingTimers(id)).toEqual([]);
    expect(h.notes(id).at(-1)).toMatchObject({
      kind: 'failed',
      reason: expect.stringContaining('traits.email'),
    });
  });
});
