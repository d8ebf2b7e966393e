import fc from 'fast-check';
import {
  createJourneyHarness,
  STAGES,
  type HarnessInstance,
  type Journey,
  type JourneyHarness,
  type LoggedConversion,
  type SendCommand,
  type Stage,
} from '../../engine/index.js';
import { MODEL_VERSIONS } from '../fixtures/journeys-model/later-versions.js';
import { winBackOffer } from '../fixtures/journeys-model/win-back-offer.js';

/**
 * The journeys the model test starts with: between them, every step of the journey DSL. Later
 * versions of each are deployed as a run goes (MODEL_VERSIONS).
 */
export const MODEL_JOURNEYS = MODEL_VERSIONS.map((versions) => versions[0]!);

/** One call of a scenario. Customers are numbers, made into ids per run. */
export type Call =
  | { kind: 'identify'; customer: number; traits: Record<string, unknown>; messageId?: string }
  | {
      kind: 'track';
      customer: number;
      event: string;
      properties: Record<string, unknown>;
      messageId?: string;
    }
  | { kind: 'trigger'; customer: number; data: Record<string, unknown>; messageId?: string };

export type Step =
  | Call
  /** Calls in one HTTP batch (`POST /v1/batch`), which the engine takes in the batch's order. */
  | { kind: 'batch'; calls: Array<Extract<Call, { kind: 'identify' | 'track' }>> }
  /**
   * One event sent `count` times at once, without waiting for the answers: more than a drain
   * batch (50) of them, or enough orders and reviews to prune finished instances (5 kept).
   */
  | { kind: 'burst'; customer: number; event: string; properties: Record<string, unknown>; count: number }
  | { kind: 'advance'; minutes: number }
  /** The earlier call `of` (counted among the calls that carry a messageId) sent again, as a retrying client does. */
  | { kind: 'again'; of: number }
  | { kind: 'erase'; customer: number }
  /**
   * The next version of the `journey`th model journey deployed (nothing when all are): every
   * worker replaced by one that loads it beside the versions before.
   */
  | { kind: 'deploy'; journey: number };

const MINUTES = [1, 10, 30, 60, 90, 4 * 60, 9 * 60, 24 * 60, 2 * 24 * 60, 3 * 24 * 60, 6 * 24 * 60];

export function scenario(customers: number): fc.Arbitrary<Step[]> {
  const customer = fc.nat({ max: customers - 1 });
  // Half the calls carry a messageId, numbered by `numberIds` below.
  const withId = fc.boolean().map((b) => (b ? {} : { messageId: '' }));
  const traits = fc.record(
    {
      vip: fc.oneof(fc.boolean(), fc.constant(null)),
      phone: fc.oneof(fc.constant('+15550100'), fc.constant(null)),
      timezone: fc.constantFrom('UTC', 'Asia/Shanghai', 'America/New_York', 'Not/AZone', null),
      email: fc.constant('c@example.com'),
    },
    { requiredKeys: [] },
  );
  const trackCall = fc.oneof(
    fc.record({
      event: fc.constant('Signed Up'),
      properties: fc.record({ plan: fc.constantFrom('free', 'pro') }),
    }),
    fc.record({
      event: fc.constant('Product Viewed'),
      // A price that is not a number breaks the event's schema: the event is rejected.
      properties: fc.record({ price: fc.oneof(fc.constantFrom(5, 99.5, 100, 250), fc.constant('cheap')) }),
    }),
    fc.record({ event: fc.constant('Cart Viewed'), properties: fc.constant({}) }),
    fc.record({
      event: fc.constant('Order Completed'),
      properties: fc.record({ revenue: fc.constantFrom(12, 40.5) }, { requiredKeys: [] }),
    }),
    fc.record({
      event: fc.constant('Review Posted'),
      properties: fc.record({ stars: fc.integer({ min: 1, max: 5 }) }),
    }),
    fc.record({ event: fc.constantFrom('Account Deleted', 'Page Left'), properties: fc.constant({}) }),
  );
  const identify = fc
    .tuple(customer, traits, withId)
    .map(([customer, traits, id]) => ({ kind: 'identify' as const, customer, traits, ...id }));
  const track = fc
    .tuple(customer, trackCall, withId)
    .map(([customer, call, id]) => ({ kind: 'track' as const, customer, ...call, ...id }));
  const step: fc.Arbitrary<Step> = fc.oneof(
    { weight: 2, arbitrary: identify },
    { weight: 6, arbitrary: track },
    {
      weight: 1,
      arbitrary: fc
        // Below 30 the journey's trigger schema refuses it, at ingest.
        .tuple(customer, fc.constantFrom(10, 45, 90), withId)
        .map(([customer, days, id]) => ({ kind: 'trigger' as const, customer, data: { days }, ...id })),
    },
    {
      weight: 1,
      arbitrary: fc
        .array(fc.oneof(identify, track, track), { minLength: 2, maxLength: 6 })
        .map((calls) => ({ kind: 'batch' as const, calls })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          customer,
          fc.constantFrom(
            { event: 'Order Completed', properties: {} },
            { event: 'Review Posted', properties: { stars: 5 } },
            { event: 'Cart Viewed', properties: {} },
            // Entered at each one once a version with reentry `always` is deployed: seven are
            // enough to prune some, where sixty would add sixty timers to fire one at a time.
            { event: 'Signed Up', properties: { plan: 'free' } },
          ),
          fc.constantFrom(3, 7, 60),
        )
        .map(([customer, call, count]) => ({
          kind: 'burst' as const,
          customer,
          ...call,
          count: call.event === 'Signed Up' ? Math.min(count, 7) : count,
        })),
    },
    {
      weight: 4,
      arbitrary: fc.record({ kind: fc.constant('advance' as const), minutes: fc.constantFrom(...MINUTES) }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('again' as const), of: fc.nat({ max: 20 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('erase' as const), customer }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('deploy' as const),
        journey: fc.nat({ max: MODEL_VERSIONS.length - 1 }),
      }),
    },
  );
  // Half the runs deploy nothing: the first versions get whole runs of traffic.
  return fc
    .tuple(fc.array(step, { minLength: 20, maxLength: 70 }), fc.boolean())
    .map(([steps, deploys]) => numberIds(deploys ? steps : steps.filter((s) => s.kind !== 'deploy')));
}

/** Gives each call that is to carry a messageId one of its own: `m<step>` or `m<step>.<call>`. */
function numberIds(steps: Step[]): Step[] {
  const numbered = <T extends Call>(call: T, id: string): T =>
    call.messageId === undefined ? call : { ...call, messageId: id };
  return steps.map((step, i) =>
    step.kind === 'batch'
      ? { ...step, calls: step.calls.map((call, j) => numbered(call, `m${i}.${j}`)) }
      : step.kind === 'identify' || step.kind === 'track' || step.kind === 'trigger'
        ? numbered(step, `m${i}`)
        : step,
  );
}

/**
 * The reference: the journey harness, one per customer (customers never meet, and an erased
 * customer starts again in a harness of their own), with ingest's de-duplication in front.
 *
 * - A call whose messageId the customer sent before is accepted and ignored. The engine remembers
 *   a messageId for 24 hours of wall-clock time (a Redis TTL), not of journey time: a whole run
 *   lasts seconds of wall-clock time however far its journey clock moves, so here every repeat
 *   is ignored.
 * - A call ingest refuses (a trigger whose data breaks the journey's schema) is stored nowhere,
 *   its messageId included.
 * - Erasure forgets everything about the customer, the messageIds seen included (their markers
 *   are keys of the customer's), and removes their queued sends and pending timers. Erased between
 *   steps, with no job of theirs running, they leave nothing that outlives the erasure, so a
 *   customer who comes back numbers their entries from 1 again.
 */
export class Model {
  private readonly harnesses = new Map<string, JourneyHarness>();
  private readonly seen = new Map<string, Set<string>>();
  /** Every instance seen after any event, by incarnation and instance id: as last seen, and the furthest stage it was in. */
  private readonly history = new Map<
    string,
    { userId: string; incarnation: number; last: HarnessInstance; furthest: number }
  >();
  private readonly incarnations = new Map<string, number>();
  /** How many versions of each model journey are deployed. */
  private readonly deployed = MODEL_VERSIONS.map(() => 1);

  constructor(private now: number) {}

  /** Every version deployed so far. */
  journeys(): Journey[] {
    return MODEL_VERSIONS.flatMap((versions, i) => versions.slice(0, this.deployed[i]));
  }

  of(userId: string): JourneyHarness {
    let h = this.harnesses.get(userId);
    if (!h) this.harnesses.set(userId, (h = createJourneyHarness(this.journeys(), { start: this.now })));
    return h;
  }

  /** Deploys the next version of the `journey`th model journey; returns it, or undefined when there is none. */
  deploy(journey: number): Journey | undefined {
    const next = MODEL_VERSIONS[journey]![this.deployed[journey]!];
    if (!next) return undefined;
    this.deployed[journey]! += 1;
    for (const h of this.harnesses.values()) h.deploy(next);
    return next;
  }

  /** Whether ingest stores the call; applies it if so. */
  apply(call: Call, userId: string): 'accepted' | 'duplicate' | 'refused' {
    const winBack = this.journeys().findLast((j) => j.id === winBackOffer.id)!;
    if (call.kind === 'trigger' && !winBack.trigger.schema.safeParse(call.data).success) return 'refused';
    if (call.messageId !== undefined) {
      let seen = this.seen.get(userId);
      if (!seen) this.seen.set(userId, (seen = new Set()));
      if (seen.has(call.messageId)) return 'duplicate';
      seen.add(call.messageId);
    }
    const h = this.of(userId);
    if (call.kind === 'identify') h.identify(userId, call.traits);
    else if (call.kind === 'track') h.track(userId, call.event, call.properties);
    else h.trigger(winBackOffer.id, userId, call.data);
    this.observe();
    return 'accepted';
  }

  /** Moves time on from one due timer to the next, so that every event a timer makes is observed. */
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const next = Math.min(...this.pendingTimers().map((t) => t.dueAt));
      if (!(next <= until)) break;
      this.moveTo(Math.max(next, this.now));
    }
    this.moveTo(until);
  }

  private moveTo(at: number): void {
    for (const h of this.harnesses.values()) h.advance(at - this.now);
    this.now = at;
    this.observe();
  }

  /** Records where every instance is, as after each event the engine commits. */
  private observe(): void {
    for (const [userId, h] of this.harnesses) {
      const incarnation = this.incarnations.get(userId) ?? 0;
      const instances = h.instances(userId);
      // One that finished and was pruned (beyond the finished instances kept) since it was last
      // seen (in one event, or at one instant with other timers of the customer's that finished
      // newer ones) was not seen finished: its notes say how it ended. An instance ended by a
      // timer ends in a final state named by its exit reason, which may be a stage further on.
      for (const seen of this.history.values()) {
        const { last } = seen;
        if (seen.userId !== userId || seen.incarnation !== incarnation || last.status !== 'active') continue;
        if (instances.some((i) => i.instanceId === last.instanceId)) continue;
        for (const note of h.notes(userId))
          if (note.kind === 'exited' && note.instanceId === last.instanceId) {
            seen.last = { ...seen.last, status: 'done', exitReason: note.reason };
            seen.furthest = Math.max(seen.furthest, this.stageOfFinal(last, note.reason));
          } else if (note.kind === 'converted' && note.instanceId === last.instanceId)
            seen.last = { ...seen.last, convertedAt: note.at };
      }
      for (const instance of instances) {
        const key = `${userId}\u0000${incarnation}\u0000${instance.instanceId}`;
        const stage = STAGES.indexOf(instance.stage);
        const seen = this.history.get(key);
        this.history.set(key, {
          userId,
          incarnation,
          last: instance,
          furthest: Math.max(stage, seen?.furthest ?? -1),
        });
      }
    }
  }

  /** The stage of the final state `reason` names in the instance's version, or -1 when it names none. */
  private stageOfFinal(instance: HarnessInstance, reason: string): number {
    const journey = this.journeys().find(
      (j) => j.id === instance.journeyId && j.version === instance.journeyVersion,
    )!;
    const node = Object.hasOwn(journey.machine.root.states, reason)
      ? journey.machine.root.states[reason]
      : undefined;
    return node?.type === 'final' ? Math.max(...node.tags.map((tag) => STAGES.indexOf(tag as Stage))) : -1;
  }

  erase(userId: string): void {
    this.harnesses.delete(userId);
    this.seen.delete(userId);
    this.incarnations.set(userId, (this.incarnations.get(userId) ?? 0) + 1);
  }

  /**
   * What the run adds to each journey's live counts (readJourneyCounts): every instance entered,
   * converted, assigned to split arms and, once finished, exited by its reason; each counted in
   * the funnel once, in the furthest stage it reached after any event and in every stage before;
   * active ones in their state and stage, unless their customer was erased since.
   */
  counts(): Map<string, Map<string, number>> {
    const counts = new Map<string, Map<string, number>>();
    const bump = (instance: HarnessInstance, kind: string, name: string) => {
      const fields = counts.get(instance.journeyId) ?? new Map<string, number>();
      counts.set(instance.journeyId, fields);
      const field = `${instance.journeyVersion}|${kind}|${name}`;
      fields.set(field, (fields.get(field) ?? 0) + 1);
    };
    for (const { userId, incarnation, last, furthest } of this.history.values()) {
      bump(last, 'entered', 'all');
      for (let stage = 0; stage <= furthest; stage++) bump(last, 'reached', STAGES[stage]!);
      for (const [split, arm] of Object.entries(last.variants)) {
        bump(last, 'variant', `${split}=${arm}`);
        if (last.convertedAt !== undefined) bump(last, 'variant-converted', `${split}=${arm}`);
      }
      if (last.convertedAt !== undefined) bump(last, 'converted', 'all');
      if (last.status !== 'active') bump(last, 'exit', last.exitReason ?? last.status);
      else if (incarnation === (this.incarnations.get(userId) ?? 0)) {
        bump(last, 'state', last.state);
        bump(last, 'stage', last.stage);
      }
    }
    return counts;
  }

  /**
   * The journeys' conversion logs, as the engine keeps them: every conversion of a customer not
   * erased since, with the version and split arms of the instance that converted.
   */
  conversions(): LoggedConversion[] {
    return [...this.harnesses].flatMap(([userId, h]) => {
      const incarnation = this.incarnations.get(userId) ?? 0;
      return h.notes(userId).flatMap((note) => {
        if (note.kind !== 'converted') return [];
        const { last } = this.history.get(`${userId}\u0000${incarnation}\u0000${note.instanceId}`)!;
        return [
          {
            customerId: userId,
            journeyId: note.journeyId,
            journeyVersion: last.journeyVersion,
            instanceId: note.instanceId,
            at: note.at,
            revenue: note.revenue ?? 0,
            variants: last.variants,
          },
        ];
      });
    });
  }

  sent(): SendCommand[] {
    return [...this.harnesses.values()].flatMap((h) => h.sent());
  }

  pendingTimers() {
    return [...this.harnesses.values()].flatMap((h) => h.pendingTimers());
  }

  instances(userId: string) {
    return this.harnesses.get(userId)?.instances(userId) ?? [];
  }

  profile(userId: string) {
    return this.harnesses.get(userId)?.profile(userId) ?? {};
  }

  get clockNow(): number {
    return this.now;
  }
}

export type Outcome = 'accepted' | 'duplicate' | 'refused';
