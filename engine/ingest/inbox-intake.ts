import type { Logger } from '../logger.js';
import type { CustomerEvent } from '../runtime/customer-event.js';
import { DRAIN_JOB, drainJobData } from '../runtime/drain-job.js';
import { drainJobId } from '../runtime/ids.js';
import type { Queues } from '../runtime/queues.js';
import type { CustomerStore } from '../store/customer-store.js';

/** The answer to an ingest call: `accepted: false` means the message id was seen before. */
export interface IngestResult {
  accepted: boolean;
  eventId: string;
}

/**
 * Where every event enters: the customer's inbox, then a drain job for it.
 *
 * An event is stored (and answered) once it is in the inbox. The answer does not wait for the
 * drain job's add, which saves the caller a round trip: an add that fails (Redis gone between
 * the two, or the process killed) leaves an inbox with events and no job, which the sweep finds
 * within SWEEP_INTERVAL_MS. `settle` waits for the adds in flight, so a one-off process (the
 * `event` script) does not end before its last event's job is added.
 */
export function createInboxIntake(deps: { store: CustomerStore; queues: Queues; logger: Logger }) {
  const adding = new Set<Promise<void>>();

  function addDrainJob(event: CustomerEvent): void {
    const added = deps.queues
      .forCustomer(event.customerId)
      .journeys.add(DRAIN_JOB, drainJobData(event.customerId), {
        jobId: drainJobId(event.customerId, event.id),
      })
      .then(
        () => undefined,
        (err: unknown) =>
          deps.logger.warn(
            { customerId: event.customerId, eventId: event.id, err },
            'no drain job added for a stored event: the inbox sweep adds one',
          ),
      );
    adding.add(added);
    void added.finally(() => adding.delete(added));
  }

  return {
    async ingest(event: CustomerEvent, messageId: string | undefined): Promise<IngestResult> {
      const { accepted, leaseHeld } = await deps.store.push(event, {
        clientId: messageId !== undefined,
        recent: event.kind !== 'enter',
      });
      // When a drainer holds the lease it will see this event before letting go. Otherwise a drain
      // job is added, also for a duplicate, so a client retrying after a crash between the two
      // steps still gets its event applied.
      if (!leaseHeld) addDrainJob(event);
      return { accepted, eventId: event.id };
    },

    /** Resolves once every drain-job add begun so far is answered. */
    async settle(): Promise<void> {
      await Promise.all(adding);
    },
  };
}
