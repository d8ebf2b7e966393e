import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  applyEvent,
  createJourneyHarness,
  defineJourney,
  JourneyCatalog,
  JourneyValidationError,
  type CustomerEvent,
  type CustomerState,
  type SendCommand,
} from '../../engine/index.js';
import { convertedAfterSend } from '../../engine/delivery/journey-goal.js';
import type { DeliveryJobData } from '../../engine/delivery/delivery-job.js';
import type { InstanceRecord } from '../../engine/runtime/instance-record.js';

/**
 * The shipped lifecycle's shape: a cart reminder dropped on the goal beside a nudge that is not,
 * both from one step; the order is the goal, thanked in the step it arrives in, and the journey
 * goes on after it (the goal does not exit).
 */
const carted = (goal: boolean) =>
  defineJourney({
    id: 'carted',
    version: 1,
    trigger: { event: 'Product Added' },
    events: { 'Order Completed': z.object({}).loose(), Ping: z.object({}).loose() },
    ...(goal ? { goal: { event: 'Order Completed' } } : {}),
    machine: (j) =>
      j.createMachine({
        initial: 'carted',
        states: {
          carted: {
            tags: 'decision',
            on: { 'Order Completed': 'thanked' },
            after: {
              '4h': {
                target: 'reminded',
                actions: [
                  j.send('cart-reminder', ['email'], { cancelOnGoal: true }),
                  j.send('nudge', ['email']),
                ],
              },
            },
          },
          reminded: { tags: 'decision', on: { 'Order Completed': 'thanked' } },
          thanked: {
            tags: 'loyalty',
            entry: j.send('thank-you', ['email'], { cancelOnGoal: true }),
            on: { Ping: { actions: j.send('nudge', ['email'], { cancelOnGoal: true }) } },
          },
        },
      }),
  });

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-23T10:00:00Z');
let n = 0;
const track = (name: string, at: number): CustomerEvent => ({
  v: 1,
  kind: 'track',
  id: `e${++n}`,
  customerId: 'ada',
  name,
  properties: {},
  timestamp: at,
});

/** Runs the journey on the pure runtime: what it sent, with the customer's instance after each event. */
function run(events: Array<[string, number]>) {
  const catalog = new JourneyCatalog([carted(true)], { has: () => true });
  let ada: CustomerState = { customerId: 'ada', profile: {}, instances: new Map() };
  const sends: SendCommand[] = [];
  for (const [name, at] of events) {
    const step = applyEvent(ada, track(name, at), at, catalog);
    ada = step.customer;
    sends.push(...step.commands.filter((c): c is SendCommand => c.type === 'send'));
  }
  return { sends, instance: [...ada.instances.values()][0]! };
}

/** The 4-hour timer fires as the event its `after` raises. */
function reminded() {
  const catalog = new JourneyCatalog([carted(true)], { has: () => true });
  let ada: CustomerState = { customerId: 'ada', profile: {}, instances: new Map() };
  ada = applyEvent(ada, track('Product Added', T0), T0, catalog).customer;
  const record = ada.instances.get('carted.1')!;
  const fires: CustomerEvent = {
    v: 1,
    kind: 'timer',
    id: Object.values(record.timers)[0]!,
    customerId: 'ada',
    instanceId: record.id,
    timestamp: T0 + 4 * HOUR,
  };
  const step = applyEvent(ada, fires, T0 + 4 * HOUR, catalog);
  return {
    catalog,
    customer: step.customer,
    sends: step.commands.filter((c): c is SendCommand => c.type === 'send'),
  };
}

const job = (send: SendCommand): DeliveryJobData => ({ ...send, v: 1, channel: 'email' });

describe('convertedAfterSend', () => {
  it('drops a send made with cancelOnGoal before the goal, and keeps the others', () => {
    const { catalog, customer, sends } = reminded();
    const reminder = sends.find((s) => s.message === 'cart-reminder')!;
    const nudge = sends.find((s) => s.message === 'nudge')!;
    expect(reminder.cancelOnGoal).toBe(true);
    expect(nudge).not.toHaveProperty('cancelOnGoal');

    const ordered = T0 + 5 * HOUR;
    const step = applyEvent(customer, track('Order Completed', ordered), ordered, catalog);
    const instance = step.customer.instances.get('carted.1')!;
    expect(instance).toMatchObject({ status: 'active', state: 'thanked', convertedAt: ordered });
    expect(convertedAfterSend(job(reminder), instance)).toBe(
      'the customer reached the goal of journey carted at 2026-11-23T15:00:00.000Z, after this send was made',
    );
    expect(convertedAfterSend(job(nudge), instance)).toBeUndefined();
    // The thank-you is sent by the step that reached the goal, with cancelOnGoal too: it goes out.
    const thanks = step.commands.find((c): c is SendCommand => c.type === 'send')!;
    expect(thanks).toMatchObject({ message: 'thank-you', cancelOnGoal: true });
    expect(convertedAfterSend(job(thanks), instance)).toBeUndefined();
  });

  it('keeps a send made after the goal, and every send of an instance that has not converted', () => {
    const { sends, instance } = run([
      ['Product Added', T0],
      ['Order Completed', T0 + HOUR],
      ['Ping', T0 + 2 * HOUR],
    ]);
    const ping = sends.at(-1)!;
    expect(ping).toMatchObject({ message: 'nudge', cancelOnGoal: true });
    expect(convertedAfterSend(job(ping), instance)).toBeUndefined();

    const { sends: before, customer } = reminded();
    const reminder = before.find((s) => s.message === 'cart-reminder')!;
    const active = customer.instances.get('carted.1')!;
    expect(active.convertedAt).toBeUndefined();
    expect(convertedAfterSend(job(reminder), active)).toBeUndefined();
    expect(convertedAfterSend(job(reminder), undefined)).toBeUndefined();
    // Another entry into the journey converting says nothing about this one's sends.
    const other: InstanceRecord = { ...active, id: 'carted.2', convertedAt: T0, convertedAtRev: 9 };
    expect(convertedAfterSend(job(reminder), other)).toBeUndefined();
  });

  it('tells the steps of one instant apart by their revision: the reminder goes, the thanks stays', () => {
    const { catalog, customer, sends } = reminded();
    const reminder = sends.find((s) => s.message === 'cart-reminder')!;
    // The order arrives in the same millisecond as the timer that made the reminder.
    const step = applyEvent(customer, track('Order Completed', reminder.at), reminder.at, catalog);
    const instance = step.customer.instances.get('carted.1')!;
    expect(instance).toMatchObject({ convertedAt: reminder.at, convertedAtRev: 2 });
    expect(convertedAfterSend(job(reminder), instance)).toContain('reached the goal of journey carted');
    const thanks = step.commands.find((c): c is SendCommand => c.type === 'send')!;
    expect(convertedAfterSend(job(thanks), instance)).toBeUndefined();
  });

  it('compares by time on a record that converted before its revision was kept', () => {
    const { sends, customer } = reminded();
    const reminder = sends.find((s) => s.message === 'cart-reminder')!;
    const instance = customer.instances.get('carted.1')!;
    const older = (convertedAt: number): InstanceRecord => ({ ...instance, convertedAt });
    expect(convertedAfterSend(job(reminder), older(reminder.at + 1))).toContain('reached the goal');
    // Converted in the step that made the send, or before it: the send was not made before the goal.
    expect(convertedAfterSend(job(reminder), older(reminder.at))).toBeUndefined();
    expect(convertedAfterSend(job(reminder), older(T0))).toBeUndefined();
  });
});

describe('j.send(…, { cancelOnGoal })', () => {
  it('shows on the send in the harness, and is left out when false or not given', () => {
    const h = createJourneyHarness(carted(true));
    h.track('ada', 'Product Added');
    h.advance('4h');
    expect(h.sent('ada').map((s) => [s.message, s.cancelOnGoal])).toEqual([
      ['cart-reminder', true],
      ['nudge', undefined],
    ]);
  });

  it('is refused at load in a journey without a goal, naming the journey and the state', () => {
    expect(() => createJourneyHarness(carted(false))).toThrow(JourneyValidationError);
    expect(() => createJourneyHarness(carted(false))).toThrow(
      /carted@1 \(state carted\): State "carted" sends "cart-reminder" with cancelOnGoal, but the journey has no goal.*To fix: declare the goal/,
    );
  });

  it('is refused at load when it is not a boolean', () => {
    const odd = defineJourney({
      id: 'odd',
      version: 1,
      trigger: { event: 'Go' },
      goal: { event: 'Order Completed' },
      machine: (j) =>
        j.createMachine({
          initial: 'a',
          states: {
            a: {
              tags: 'awareness',
              type: 'final',
              entry: j.send('welcome', ['email'], { cancelOnGoal: 'yes' as never }),
            },
          },
        }),
    });
    expect(() => createJourneyHarness(odd)).toThrow(/cancelOnGoal "yes". To fix: use true or false/);
  });
});
