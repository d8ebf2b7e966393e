import type { Logger } from '../logger.js';
import type { CustomerEvent } from '../runtime/customer-event.js';
import { addDrainJob } from '../runtime/drain-job.js';
import { drainJobId } from '../runtime/ids.js';
import type { Queues } from '../runtime/queues.js';
import type { CustomerStore } from '../store/customer-store.js';

/**
 * The answer to an ingest call: `accepted: false` means the message id was seen before, or, for a
 * call with `knownOnly`, that the customer is not known.
 */
export interface IngestResult {
  accepted: boolean;
  eventId: string;
}

/** How an event is taken in. */
export interface IngestOptions {
  /**
   * Only for a customer the engine knows (who has a state or a consent answer), checked in the
   * same atomic step as the append: an event caused by an erased customer's old email (an
   * unsubscribe, a double opt-in confirmation) must not start a new customer under their id.
   */
  knownOnly?: boolean;
  /**
   * How long the event's messageId is remembered, so that a repeat is accepted and ignored: the
   * store's `dedupeSeconds` (a day) when unset. Webhooks ask for longer (WEBHOOK_ID_MEMORY_SECONDS).
   */
  rememberIdSeconds?: number;
}

/**
 * How many drain-job adds may be in flight before ingest calls wait for theirs again: when Redis
 * falls behind, callers are slowed down rather than answered while the adds pile up in memory.
 */
export const MAX_DRAIN_ADDS_IN_FLIGHT = 1_000;

/** How long a failed drain-job add waits before its one retry (an API connection reconnecting). */
export const DRAIN_ADD_RETRY_MS = 500;

/**
 * Where every event enters: the customer's inbox, then a drain job for it.
 *
 * An event is stored (and answered) once it is in the inbox. The answer does not wait for the
 * drain job's add, which saves the caller a round trip. An add that fails is tried once more;
 * one that fails again (Redis away), or that a killed process never made, leaves an inbox with
 * events and no job, which the journey workers' sweep finds (SWEEP_INTERVAL_MS; a pass over a
 * large keyspace spans several sweeps). `settle` waits for the adds in flight, so a process that
 * closes (the `event` script, right after its call) does not end before its events' jobs are added.
 */
export function createInboxIntake(deps: { store: CustomerStore; queues: Queues; logger: Logger }) {
  const adding = new Set<Promise<void>>();
  let givenUp = 0;

  /** Adds the event's drain job, once more after a pause if that fails; never rejects. */
  async function drainLater(event: CustomerEvent): Promise<void> {
    const add = () => addDrainJob(deps.queues, event.customerId, drainJobId(event.customerId, event.id));
    try {
      await add().catch(async () => {
        await new Promise((resolve) => setTimeout(resolve, DRAIN_ADD_RETRY_MS));
        return add();
      });
    } catch (err) {
      givenUp += 1;
      deps.logger.warn(
        { customerId: event.customerId, eventId: event.id, err },
        'no drain job added for a stored event: the inbox sweep adds one',
      );
    }
  }

  return {
    async ingest(
      event: CustomerEvent,
      messageId: string | undefined,
      options: IngestOptions = {},
    ): Promise<IngestResult> {
      const { accepted, leaseHeld, known } = await deps.store.push(event, {
        clientId: messageId !== undefined,
        recent: event.kind !== 'enter',
        ...(options.knownOnly ? { knownOnly: true } : {}),
        ...(options.rememberIdSeconds === undefined ? {} : { idSeconds: options.rememberIdSeconds }),
      });
      if (!known) return { accepted: false, eventId: event.id };
      // When a drainer holds the lease it will see this event before letting go. Otherwise a drain
      // job is added, also for a duplicate, so a client retrying after a crash between the two
      // steps still gets its event applied.
      if (!leaseHeld) {
        const added = drainLater(event);
        adding.add(added);
        const done = () => void adding.delete(added);
        void added.then(done, done);
        if (adding.size > MAX_DRAIN_ADDS_IN_FLIGHT) await added;
      }
      return { accepted, eventId: event.id };
    },

    /** How many drain-job adds this process gave up to the sweep since it started. */
    get givenUp(): number {
      return givenUp;
    },

    /** Resolves once every drain-job add begun so far is answered (or given up to the sweep). */
    async settle(): Promise<void> {
      await Promise.all(adding);
    },
  };
}
