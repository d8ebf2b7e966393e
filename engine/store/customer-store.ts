import type { RedisConnection } from '../redis/connection.js';
import { ChorusError } from '../errors.js';
import { CUSTOMER_EVENT_VERSION, CustomerEvent } from '../runtime/customer-event.js';
import { newerVersionOf } from '../runtime/newer-version.js';
import type { CustomerState, InstanceRecord } from '../runtime/instance-record.js';
import {
  customerKeys,
  inboxAppendKeys,
  instanceField,
  instanceIdOfField,
  type CustomerKeys,
} from './customer-keys.js';
import { readRecentEvent, recentEventEntry } from './recent-events.js';
import { readMessageList, readStoredObjects } from './message-list.js';
import { countDeltas } from './journey-counts.js';
import { StatsWrites } from './stats-writes.js';
import {
  acquireAndLoad,
  commitStep,
  handOverLease,
  pushEvent,
  releaseIfIdle,
  writeBeforeCommands,
} from './scripts.js';

export class LeaseLostError extends ChorusError {
  constructor(customerId: string, detail: string) {
    super(
      'CHORUS_LEASE_LOST',
      `The drainer of customer "${customerId}" lost its lease (${detail}); nothing was written and the job will retry. ` +
        'To fix: if this repeats, raise LOCK_DURATION_MS above the slowest batch.',
    );
  }
}

/**
 * An inbox entry: parsed, or kept raw with the reason it cannot be applied, and its version when
 * a newer version of Chorus wrote it (it is then left for a newer worker, not dead-lettered).
 */
export type InboxEntry =
  { ok: true; event: CustomerEvent } | { ok: false; raw: string; reason: string; newer?: number };

export interface LoadedCustomer {
  rev: number;
  customer: CustomerState;
  inbox: InboxEntry[];
  /**
   * The token of a step that took the lease and then neither committed nor let go (its process
   * died, or it lost the lease): it may have added timer jobs that no instance names.
   */
  interruptedStep?: string;
  /** Whether the customer had a state before this load (which marks it, and so makes one). */
  stateFound: boolean;
}

export interface CommitInput {
  expectedRev: number;
  consumed: number;
  profile?: Record<string, unknown>;
  instances: readonly InstanceRecord[];
  /** Finished instances to delete; their share of the journey counts is added to the customer's tally. */
  pruned?: readonly InstanceRecord[];
  dead: ReadonlyArray<{ event: string; reason: string; at: number }>;
  /** Statistics to write in the same atomic step (single Redis only: see stats-writes.ts). */
  stats?: StatsWrites;
}

export interface CustomerStoreOptions {
  prefix: string;
  /** How many recent events to keep per customer. */
  recentEvents?: number;
  /** How long a message id is remembered for de-duplication, in seconds. */
  dedupeSeconds?: number;
  leaseMs?: number;
  /** How many inbox events one commit applies at most. */
  batchSize?: number;
}

const GENERATED_ID_DEDUPE_SECONDS = 300;

function parseEntry(raw: string): InboxEntry {
  try {
    const json: unknown = JSON.parse(raw);
    const parsed = CustomerEvent.safeParse(json);
    if (parsed.success) return { ok: true, event: parsed.data };
    const newer = newerVersionOf(json, CUSTOMER_EVENT_VERSION);
    return { ok: false, raw, reason: parsed.error.message, ...(newer === undefined ? {} : { newer }) };
  } catch (error) {
    return { ok: false, raw, reason: (error as Error).message };
  }
}

/** The customer's persisted state in Redis: profile, journey instances, inbox and lease. */
/** What `acquire` answers for a timer of a customer who has no state: nothing was written. */
export const TIMER_DROPPED = 'timer dropped';

export class CustomerStore {
  readonly prefix: string;
  readonly leaseMs: number;
  readonly #recentEvents: number;
  /** How long a client's message id is remembered for de-duplication, in seconds. */
  readonly dedupeSeconds: number;
  readonly #batchSize: number;

  constructor(
    readonly redis: RedisConnection,
    options: CustomerStoreOptions,
  ) {
    this.prefix = options.prefix;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.#recentEvents = options.recentEvents ?? 100;
    this.dedupeSeconds = options.dedupeSeconds ?? 86_400;
    this.#batchSize = options.batchSize ?? 50;
  }

  keys(customerId: string): CustomerKeys {
    return customerKeys(this.prefix, customerId);
  }

  /**
   * Appends an event to the inbox; `accepted: false` when its id was already seen. Every push is
   * de-duplicated by event id: a client's `messageId` for a day (or `idSeconds`), a generated id
   * for a few minutes, which covers ioredis resending an unanswered command after a reconnect. With
   * `knownOnly`, only for a customer the engine knows, who has a state or a consent answer,
   * checked in the same atomic step; for another nothing is written and `known` is false.
   */
  async push(
    event: CustomerEvent,
    options: { clientId: boolean; recent: boolean; knownOnly?: boolean; idSeconds?: number },
  ): Promise<{ accepted: boolean; leaseHeld: boolean; known: boolean }> {
    const keys = inboxAppendKeys(this.prefix, event.customerId, event.id);
    if (options.knownOnly) {
      const customer = this.keys(event.customerId);
      keys.push(customer.state, customer.consent);
    }
    const [accepted, leaseHeld, known] = (await pushEvent.run(this.redis, keys, [
      JSON.stringify(event),
      options.recent ? recentEventEntry(event) : '',
      this.#recentEvents,
      options.clientId ? (options.idSeconds ?? this.dedupeSeconds) : GENERATED_ID_DEDUPE_SECONDS,
    ])) as [number, number, number];
    return { accepted: accepted === 1, leaseHeld: leaseHeld === 1, known: known === 1 };
  }

  /**
   * Takes the lease with `token` and loads the customer, or returns `undefined` when another job
   * holds it. `event` (a fired timer), when given, is appended to the inbox first, in the same
   * atomic step, once per timer job (`token`, its job id: a retry does not append it again while
   * it waits, or after its own step applied it; see acquireAndLoad), or dropped when the customer
   * has no state (erased while the timer's job ran):
   * then the answer is `TIMER_DROPPED` and nothing is written. The lease lasts `leaseMs` (the
   * store's, by default) unless renewed by a commit.
   */
  async acquire(
    keys: CustomerKeys,
    token: string,
    event?: undefined,
    leaseMs?: number,
  ): Promise<LoadedCustomer | undefined>;
  async acquire(
    keys: CustomerKeys,
    token: string,
    event?: CustomerEvent,
    leaseMs?: number,
  ): Promise<LoadedCustomer | typeof TIMER_DROPPED | undefined>;
  async acquire(
    keys: CustomerKeys,
    token: string,
    event?: CustomerEvent,
    leaseMs = this.leaseMs,
  ): Promise<LoadedCustomer | typeof TIMER_DROPPED | undefined> {
    const reply = (await acquireAndLoad.run(
      this.redis,
      [keys.state, keys.inbox, keys.lease, keys.seqFloor],
      [token, leaseMs, this.#batchSize, event === undefined ? '' : JSON.stringify(event)],
    )) as [0] | [2] | [1, string[], string[], string];
    if (reply[0] === 0) return undefined;
    if (reply[0] === 2) return TIMER_DROPPED;
    const [, flat, inbox, seqFloor] = reply;
    const { rev, customer, step, committedProfile, stepEntries } = decodeState(keys.customerId, flat);
    // A step that died after writing its profile early: its batch is applied again from the
    // profile as it was committed, so each event sees the traits it saw the first time.
    if (committedProfile !== undefined) customer.profile = committedProfile;
    // And it enters the customer in the journey versions it entered them in the first time.
    if (step !== undefined && stepEntries !== undefined) customer.pinnedEntries = stepEntries;
    if (seqFloor !== '') customer.seqFloor = Number(seqFloor);
    const loaded: LoadedCustomer = {
      rev,
      customer,
      inbox: inbox.map(parseEntry),
      stateFound: flat.length > 0,
    };
    // Our own mark is a re-run of our own step, not another's that died.
    if (step !== undefined && step !== token) loaded.interruptedStep = step;
    return loaded;
  }

  /** Writes one step's result under the lease; returns whether the lease was released (inbox empty). */
  async commit(
    keys: CustomerKeys,
    token: string,
    input: CommitInput,
  ): Promise<{ rev: number; released: boolean; statsError?: string }> {
    const fields: string[] = [];
    if (input.profile) fields.push('profile', JSON.stringify(input.profile));
    for (const record of input.instances) fields.push(instanceField(record.id), JSON.stringify(record));
    const removed = (input.pruned ?? []).map((record) => instanceField(record.id));
    // The tally sits in the customer's slot, so it is written inside the commit on a Cluster too.
    const tally = input.pruned?.length ? prunedTally(keys, input.pruned).scriptArgs() : undefined;
    const stats = input.stats?.scriptArgs();
    const reply = (await commitStep.run(
      this.redis,
      [keys.state, keys.inbox, keys.lease, keys.dead, ...(tally?.keys ?? []), ...(stats?.keys ?? [])],
      [
        token,
        input.expectedRev,
        input.consumed,
        this.leaseMs,
        input.dead.length,
        fields.length,
        removed.length,
        ...input.dead.map((entry) => JSON.stringify(entry)),
        ...fields,
        ...removed,
        ...(tally?.args ?? []),
        ...(stats?.args ?? []),
      ],
    )) as [number, number?, string?];
    if (reply[0] === -1) throw new LeaseLostError(keys.customerId, 'another job holds it');
    if (reply[0] === -2) throw new LeaseLostError(keys.customerId, 'its state was changed by another job');
    const committed = { rev: reply[0], released: reply[1] === 1 };
    return reply[2] ? { ...committed, statsError: reply[2] } : committed;
  }

  /**
   * Saves, under the lease and before a batch's commands run, in one round trip:
   * - the profile it produced (`profile`): a send enqueued by the same batch (an identify and the
   *   event that sends, applied together) must find the new address when its delivery worker
   *   reads the profile, which may be before the commit. The committed profile is kept aside until
   *   the commit, and a batch re-applied after a crash starts from it, so writing early is safe;
   * - the journey version of each instance it enters (`entries`, instance id to version): a re-run
   *   of the batch after its step died enters the same versions, whatever version a newer release
   *   has added meanwhile. See writeBeforeCommands.
   */
  async saveBeforeCommands(
    keys: CustomerKeys,
    token: string,
    parts: { profile?: Record<string, unknown>; entries?: Readonly<Record<string, number>> },
  ): Promise<void> {
    const reply = (await writeBeforeCommands.run(
      this.redis,
      [keys.state, keys.lease],
      [
        token,
        parts.profile === undefined ? '' : JSON.stringify(parts.profile),
        parts.entries === undefined ? '' : JSON.stringify(parts.entries),
      ],
    )) as number;
    if (reply === -1) throw new LeaseLostError(keys.customerId, 'another job holds it');
  }

  /**
   * Hands the customer's lease from `holder` to `next` for `leaseMs` (the store's length by
   * default), if `holder` still has it; returns whether it did.
   */
  async handOverLease(
    keys: CustomerKeys,
    holder: string,
    next: string,
    leaseMs = this.leaseMs,
  ): Promise<boolean> {
    return (await handOverLease.run(this.redis, [keys.lease], [holder, next, leaseMs])) === 1;
  }

  /** Lets go of the lease when no event is waiting; returns whether it did. */
  async releaseIfIdle(keys: CustomerKeys, token: string): Promise<boolean> {
    const reply = (await releaseIfIdle.run(
      this.redis,
      [keys.inbox, keys.lease, keys.state],
      [token],
    )) as number;
    if (reply === -1)
      throw new LeaseLostError(keys.customerId, 'it expired while the inbox was being drained');
    return reply === 1;
  }

  /** The customer's current traits. */
  async profile(customerId: string): Promise<Record<string, unknown>> {
    const raw = await this.redis.hget(this.keys(customerId).state, 'profile');
    return raw === null ? {} : (JSON.parse(raw) as Record<string, unknown>);
  }

  /**
   * What the customer's deleted finished instances had added to their journeys' counts, by
   * `<journeyId>|<count field>` (see `keepFinished`).
   */
  async prunedCounts(customerId: string): Promise<Record<string, number>> {
    const tally = await this.redis.hgetall(this.keys(customerId).pruned);
    return Object.fromEntries(Object.entries(tally).map(([field, n]) => [field, Number(n)]));
  }

  /** The customer as stored, for reading: profile, instances, recent events and messages. */
  async read(customerId: string) {
    const keys = this.keys(customerId);
    const [flat, events, messages, dead, inbox] = await Promise.all([
      this.redis.hgetall(keys.state),
      this.redis.lrange(keys.events, 0, -1),
      this.redis.lrange(keys.messages, 0, -1),
      this.redis.lrange(keys.dead, 0, -1),
      this.redis.llen(keys.inbox),
    ]);
    const { rev, customer } = decodeState(customerId, Object.entries(flat).flat());
    // An entry cut short or edited by hand does not fail the customer's page or export: it is
    // left out of the list it is in, and kept as written in `unreadable`, which an export shows.
    const messageList = readMessageList(messages);
    const deadList = readMessageList(dead);
    const eventList = readStoredObjects(events);
    return {
      rev,
      profile: customer.profile,
      instances: [...customer.instances.values()],
      recentEvents: eventList.entries.map((e): CustomerEvent => readRecentEvent(e, customerId)),
      messages: messageList.entries,
      deadLetters: deadList.entries as Array<{ event: string; reason: string; at: number }>,
      pendingEvents: inbox,
      unreadable: {
        messages: messageList.unreadable,
        deadLetters: deadList.unreadable,
        recentEvents: eventList.unreadable,
      },
    };
  }
}

/** What the pruned instances add to their journeys' counts, as increments of the customer's tally. */
function prunedTally(keys: CustomerKeys, pruned: readonly InstanceRecord[]): StatsWrites {
  const increments = new Map<string, number>();
  for (const [journeyId, fields] of countDeltas(new Map(), pruned))
    for (const [field, by] of fields) increments.set(`${journeyId}|${field}`, by);
  const writes = new StatsWrites();
  writes.hincrbyAll(keys.pruned, increments);
  return writes;
}

/**
 * The customer in the state hash's fields. `profile` is the newest profile, which a step may have
 * written before its commit (see saveBeforeCommands); `committedProfile` the one as of the last commit,
 * when such a step has not committed yet.
 */
function decodeState(
  customerId: string,
  flat: readonly string[],
): {
  rev: number;
  customer: CustomerState;
  step?: string;
  committedProfile?: Record<string, unknown>;
  stepEntries?: Record<string, number>;
} {
  let rev = 0;
  let step: string | undefined;
  let stepEntries: Record<string, number> | undefined;
  let profile: Record<string, unknown> = {};
  let committedProfile: Record<string, unknown> | undefined;
  const instances = new Map<string, InstanceRecord>();
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const field = flat[i]!;
    const value = flat[i + 1]!;
    if (field === 'rev') rev = Number(value);
    else if (field === 'step') step = value;
    else if (field === 'profile') profile = JSON.parse(value) as Record<string, unknown>;
    else if (field === 'profile-committed') committedProfile = JSON.parse(value) as Record<string, unknown>;
    else if (field === 'step-entries') stepEntries = JSON.parse(value) as Record<string, number>;
    else {
      const instanceId = instanceIdOfField(field);
      if (instanceId !== undefined) instances.set(instanceId, JSON.parse(value) as InstanceRecord);
    }
  }
  const customer: CustomerState = { customerId, profile, instances };
  return {
    rev,
    customer,
    ...(step === undefined ? {} : { step }),
    ...(committedProfile === undefined ? {} : { committedProfile }),
    ...(stepEntries === undefined ? {} : { stepEntries }),
  };
}
