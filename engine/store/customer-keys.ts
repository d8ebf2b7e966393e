import { customerToken } from '../runtime/ids.js';

/**
 * Where one customer lives in Redis. Every key shares the hash tag `{<customer>}`, so one
 * customer's keys sit in one Cluster slot and different customers spread across the cluster.
 */
export function customerKeys(prefix: string, customerId: string): CustomerKeys {
  let known = byPrefix.get(prefix);
  if (known === undefined) byPrefix.set(prefix, (known = new Map()));
  let keys = known.get(customerId);
  if (keys === undefined) {
    keys = Object.freeze(buildKeys(prefix, customerId));
    if (known.size >= MEMO_SIZE) known.clear();
    known.set(customerId, keys);
  }
  return keys;
}

/** Every job and script of a step asks for the same customer's keys: built once, shared frozen. */
const byPrefix = new Map<string, Map<string, CustomerKeys>>();
const MEMO_SIZE = 10_000;

const keyBase = (prefix: string, customerId: string) => `${prefix}:c:{${customerToken(customerId)}}`;

/**
 * The keys one inbox append touches (inbox, recent events, lease, the event id's seen-marker),
 * the same strings as {@link customerKeys} gives, without building and memoising the other ten:
 * ingest mostly meets a customer once in a while, and for each new one that cost more than the
 * rest of the append's preparation.
 */
export function inboxAppendKeys(prefix: string, customerId: string, eventId: string): string[] {
  const base = keyBase(prefix, customerId);
  return [`${base}:inbox`, `${base}:events`, `${base}:lease`, `${base}:seen:${eventId}`];
}

const INSTANCE_FIELD_PREFIX = 'i:';

/** The field of the customer's state hash that holds one journey instance's record. */
export function instanceField(instanceId: string): string {
  return `${INSTANCE_FIELD_PREFIX}${instanceId}`;
}

/** The instance id a field of the customer's state hash holds the record of; undefined for other fields. */
export function instanceIdOfField(field: string): string | undefined {
  return field.startsWith(INSTANCE_FIELD_PREFIX) ? field.slice(INSTANCE_FIELD_PREFIX.length) : undefined;
}

/** The key of the tally of pruned instances that goes with a customer's state key. */
export function prunedTallyKey(stateKey: string): string {
  return `${stateKey}:pruned`;
}

function buildKeys(prefix: string, customerId: string) {
  const base = keyBase(prefix, customerId);
  return {
    customerId,
    /**
     * Hash: `rev` (fencing version), `profile` (JSON traits), `i:<instanceId>` (JSON instance);
     * while a step runs, `step` (its token) and, once it wrote the profile early,
     * `profile-committed` (the profile as of the last commit), and once its commands are about to
     * run, `step-entries` (the journey version of each instance it enters).
     */
    state: base,
    /**
     * Hash: `<journeyId>|<count field>` → what the finished instances no longer kept add to their
     * journey's counts (journey-counts.ts field names), so `recountJourneys` still counts them.
     */
    pruned: prunedTallyKey(base),
    /** List of events waiting to be applied, oldest first. */
    inbox: `${base}:inbox`,
    /** Capped list of recent track/identify events, newest first. */
    events: `${base}:events`,
    /** Set of the customer's send job ids, and of timer jobs that failed (customer-jobs.ts), for erasure. */
    jobs: `${base}:jobs`,
    /** The drainer's lease: the token of the one job applying this customer's events. */
    lease: `${base}:lease`,
    /** Capped list of messages handed to delivery, newest first. */
    messages: `${base}:messages`,
    /** Capped list of events that could not be applied, with the reason. */
    dead: `${base}:dead`,
    /** Hash: `<channel>|<topic>` → JSON consent record (state, when, source, text version). */
    consent: `${base}:consent`,
    /** Capped list of every consent change, newest first: the evidence trail. */
    consentLog: `${base}:consent-log`,
    /** Hash: `<opId>|<opened|clicked|delivered|bounced|complained>` (first time, epoch ms), `<opId>|clicks`. */
    tracked: `${base}:tracked`,
    /** Sorted set: the op ids `tracked` holds, scored by their first engagement, to drop the oldest. */
    trackedOps: `${base}:tracked-ops`,
    /** Capped list of opens, clicks and provider reports of the customer's messages, newest first. */
    engagement: `${base}:engagement`,
    /**
     * The highest journey entry number (`seq`) of an erased incarnation of this customer whose jobs
     * outlived the erasure; expires with their ended operations (see customer-erasure.ts).
     */
    seqFloor: `${base}:seq-floor`,
    /**
     * Sorted set: the ids of the customer's SMS short links (short-links.ts), scored by when they
     * expire, so erasure deletes the links, whose keys are named by their id alone.
     */
    shortLinks: `${base}:short-links`,
    seen: (messageId: string) => `${base}:seen:${messageId}`,
    /** Set once the consent trait of the identify call with this message id is recorded (as long as `seen`). */
    consentTaken: (messageId: string) => `${base}:consent-taken:${messageId}`,
    op: (opId: string) => `${base}:op:${opId}`,
    /** Sorted set of the op ids one frequency cap counted, scored by send time. */
    cap: (rule: string) => `${base}:cap:${rule}`,
  };
}

export type CustomerKeys = Readonly<ReturnType<typeof buildKeys>>;
