import { randomUUID } from 'node:crypto';
import { FakeClock } from '../clock.js';
import type { DurationInput } from '../duration.js';
import { parseDuration } from '../duration.js';
import type { Journey } from '../journey/define-journey.js';
import { JourneyCatalog } from '../journey/journey-catalog.js';
import type { MessageCatalog } from '../journey/validate-journey.js';
import type { Stage } from '../journey/stage.js';
import { applyEvent } from '../runtime/apply-event.js';
import type { Note, ScheduleCommand, SendCommand } from '../runtime/command.js';
import { CUSTOMER_EVENT_VERSION, type CustomerEvent } from '../runtime/customer-event.js';
import type { CustomerState, InstanceRecord } from '../runtime/instance-record.js';

export interface JourneyHarnessOptions {
  /** Core messages the journeys may send. Default: any id is accepted. */
  messages?: MessageCatalog;
  /** Where the fake clock starts. Default: 2026-01-01T00:00:00Z. */
  start?: Date | number;
  /** The IANA zone of customers without a `timezone` trait, for `j.atLocalTime` waits. Default UTC. */
  timezone?: string;
}

/** A message the journey asked to send, with the journey time it was asked at. */
export type HarnessSend = SendCommand;

/** Where one customer stands in one journey. */
export interface HarnessInstance {
  journeyId: string;
  journeyVersion: number;
  instanceId: string;
  status: InstanceRecord['status'];
  state: string;
  stage: Stage;
  exitReason?: string;
  convertedAt?: number;
  variants: Record<string, string>;
}

const anyMessage: MessageCatalog = { has: () => true };

/**
 * Runs journeys in memory on a fake clock, through the same pure runtime the workers use: enter
 * customers, send events, advance time, and read what was sent and where everyone is.
 *
 * @example
 * const h = createJourneyHarness(welcome);
 * h.track('u1', 'Signed Up', { plan: 'pro' });
 * h.advance('2d');
 * expect(h.sent('u1').map((s) => s.message)).toEqual(['welcome', 'nudge']);
 */
export function createJourneyHarness(
  journeys: Journey | readonly Journey[],
  options: JourneyHarnessOptions = {},
) {
  const list = (js: Journey | readonly Journey[]): readonly Journey[] =>
    Array.isArray(js) ? js : [js as Journey];
  const load = (js: readonly Journey[]) =>
    new JourneyCatalog(js, options.messages ?? anyMessage, { timezone: options.timezone ?? 'UTC' });
  let loaded = list(journeys);
  let catalog = load(loaded);
  const clock = new FakeClock(options.start === undefined ? undefined : Number(options.start));
  const customers = new Map<string, CustomerState>();
  const timers = new Map<string, ScheduleCommand>();
  const sends: HarnessSend[] = [];
  const notes: Array<Note & { customerId: string; at: number }> = [];

  const customer = (customerId: string): CustomerState =>
    customers.get(customerId) ?? { customerId, profile: {}, instances: new Map() };

  function apply(event: CustomerEvent): void {
    const result = applyEvent(customer(event.customerId), event, clock.now(), catalog);
    customers.set(event.customerId, result.customer);
    for (const note of result.notes) notes.push({ ...note, customerId: event.customerId, at: clock.now() });
    for (const command of result.commands) {
      if (command.type === 'send') sends.push(command);
      else if (command.type === 'schedule') timers.set(command.jobId, command);
      else timers.delete(command.jobId);
    }
  }

  const base = (customerId: string) => ({
    v: CUSTOMER_EVENT_VERSION,
    id: randomUUID(),
    customerId,
    timestamp: clock.now(),
  });

  function instancesOf(customerId: string): HarnessInstance[] {
    return [...customer(customerId).instances.values()].map((record) => ({
      journeyId: record.journeyId,
      journeyVersion: record.journeyVersion,
      instanceId: record.id,
      status: record.status,
      state: record.state,
      stage: record.stage,
      ...(record.exitReason === undefined ? {} : { exitReason: record.exitReason }),
      ...(record.convertedAt === undefined ? {} : { convertedAt: record.convertedAt }),
      variants: (record.context.variants as Record<string, string> | undefined) ?? {},
    }));
  }

  function latest(customerId: string, journeyId?: string): HarnessInstance | undefined {
    return instancesOf(customerId)
      .filter((i) => journeyId === undefined || i.journeyId === journeyId)
      .at(-1);
  }

  return {
    clock,
    /**
     * Segment `identify`: merges traits into the profile. A `consent` trait is left out of it, as
     * the engine records it in the consent store instead of keeping it as a trait.
     */
    identify(customerId: string, traits: Record<string, unknown>): void {
      const { consent: _consent, ...kept } = traits;
      apply({ ...base(customerId), kind: 'identify', traits: kept });
    },
    /**
     * Segment `track`: may enrol the customer and advance their journeys. It happens now, unless
     * `options.timestamp` dates it earlier, as for an event a mobile SDK delivers late: one dated
     * before a customer entered a journey does not convert, end or move them there.
     */
    track(
      customerId: string,
      name: string,
      properties: Record<string, unknown> = {},
      options: { timestamp?: Date | number } = {},
    ): void {
      const event = { ...base(customerId), kind: 'track' as const, name, properties };
      if (options.timestamp !== undefined) event.timestamp = Number(options.timestamp);
      apply(event);
    },
    /** Enters a customer into an API-triggered journey. */
    trigger(journeyId: string, customerId: string, data: Record<string, unknown> = {}): void {
      apply({ ...base(customerId), kind: 'enter', journeyId, data });
    },
    /**
     * Deploys more journeys or new versions of loaded ones, as a redeployed engine runs them:
     * customers in flight stay on the version they started, new entries take the latest. Every
     * version loaded before stays loaded. Throws {@link JourneyValidationError} (and deploys
     * nothing) when the journeys do not check, e.g. a version that is already loaded.
     *
     * @example
     * const h = createJourneyHarness(welcomeV1);
     * h.track('early', 'Signed Up');
     * h.deploy(welcomeV2);
     * h.track('late', 'Signed Up');
     * expect(h.instance('early')?.journeyVersion).toBe(1);
     * expect(h.instance('late')?.journeyVersion).toBe(2);
     */
    deploy(journeys: Journey | readonly Journey[]): void {
      const next = [...loaded, ...list(journeys)];
      catalog = load(next);
      loaded = next;
    },
    /** Moves the clock forward, firing every timer that falls due, in order, at its due time. */
    advance(by: DurationInput): void {
      const until = clock.now() + parseDuration(by);
      for (;;) {
        const due = [...timers.values()].filter((t) => t.dueAt <= until).sort((a, b) => a.dueAt - b.dueAt)[0];
        if (!due) break;
        timers.delete(due.jobId);
        clock.set(Math.max(clock.now(), due.dueAt));
        apply({
          ...base(due.customerId),
          kind: 'timer',
          id: due.jobId,
          instanceId: due.instanceId,
          sendId: due.sendId,
          eventType: due.eventType,
        });
      }
      clock.set(until);
    },
    /** Messages sent so far, to everyone or to one customer. */
    sent(customerId?: string): HarnessSend[] {
      return sends.filter((s) => customerId === undefined || s.customerId === customerId);
    },
    /** Every instance of a customer, oldest first. */
    instances: instancesOf,
    /** The customer's current (latest) instance of a journey, or of any journey. */
    instance: latest,
    state(customerId: string, journeyId?: string): string | undefined {
      return latest(customerId, journeyId)?.state;
    },
    stage(customerId: string, journeyId?: string): Stage | undefined {
      return latest(customerId, journeyId)?.stage;
    },
    profile(customerId: string): Record<string, unknown> {
      return customer(customerId).profile;
    },
    /** Entries, exits, conversions and rejections, for assertions about why. */
    notes(customerId?: string) {
      return notes.filter((n) => customerId === undefined || n.customerId === customerId);
    },
    /** Timers still pending. */
    pendingTimers(customerId?: string): ScheduleCommand[] {
      return [...timers.values()].filter((t) => customerId === undefined || t.customerId === customerId);
    },
  };
}

export type JourneyHarness = ReturnType<typeof createJourneyHarness>;
