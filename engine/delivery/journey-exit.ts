import { stepRevOf } from '../runtime/ids.js';
import type { InstanceRecord } from '../runtime/instance-record.js';
import type { DeliveryJobData } from './delivery-job.js';
import { JOURNEY_REMOVED } from '../runtime/loaded-journeys.js';

/** The rule a send stopped because its customer left the journey is recorded under. */
export const JOURNEY_EXIT_RULE = 'journey-exit';

/**
 * Why a send must not go out because its customer left the journey after it was made, by the
 * journey's goal (`goal: { exit: true }`) or one of its `exitOn` events; `undefined` when it may.
 * A cart reminder that waited in its queue (a backlog, a quiet hour, a frequency cap) is not
 * sent after the order it was meant to bring, as in Braze or Customer.io, where meeting the exit
 * criteria drops what the customer had still to receive. A send made by the step that left (a
 * thank-you sent on the goal) goes out: the instance's revision is then the send's own. An
 * instance that ran to a final state of its own keeps its sends: nothing told it to stop. One
 * ended because its journey was removed from the code (JOURNEY_REMOVED) does not: as for an
 * archived Canvas or campaign, what it had still to send is dropped.
 */
export function exitedAfterSend(
  job: DeliveryJobData,
  instance: InstanceRecord | undefined,
): string | undefined {
  if (!instance || instance.status !== 'done' || instance.id !== job.instanceId) return undefined;
  const reason = instance.exitReason ?? '';
  const how =
    reason === 'goal'
      ? 'reached its goal'
      : reason.startsWith('exit:')
        ? `sent the exit event "${reason.slice('exit:'.length)}"`
        : reason === JOURNEY_REMOVED
          ? 'the journey was removed from the code: no process loaded it any more'
          : undefined;
  const rev = stepRevOf(job.opId);
  if (how === undefined || rev === undefined || instance.rev <= rev) return undefined;
  return `the customer left journey ${instance.journeyId} (${how}) at ${new Date(instance.updatedAt).toISOString()}, after this send was made`;
}
