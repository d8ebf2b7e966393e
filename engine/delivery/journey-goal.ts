import { stepRevOf } from '../runtime/ids.js';
import type { InstanceRecord } from '../runtime/instance-record.js';
import type { DeliveryJobData } from './delivery-job.js';

/** The rule a send its journey cancels on the goal (`cancelOnGoal`) is skipped under. */
export const JOURNEY_GOAL_RULE = 'journey-goal';

/**
 * Why a send made with `cancelOnGoal` must not go out because its customer reached the journey's
 * goal after it was made; `undefined` when it may. It is for a goal that does not end the
 * journey (the shipped lifecycle thanks the customer after the order): a cart reminder with its
 * coupon that waited out a quiet hour, a frequency cap or a backlog is pointless once the order
 * is in, while a welcome still queued when the shopper ordered at once is not, which is why the
 * journey says which sends it means. A send made by the step that reached the goal, or later,
 * goes out: its revision is past the one the instance was at when it converted.
 */
export function convertedAfterSend(
  job: DeliveryJobData,
  instance: InstanceRecord | undefined,
): string | undefined {
  if (job.cancelOnGoal !== true || !instance || instance.id !== job.instanceId) return undefined;
  const at = instance.convertedAt;
  if (at === undefined) return undefined;
  const rev = stepRevOf(job.opId);
  // A record that converted before the revision was kept is compared by time: the step that
  // converted and the sends it made share one `now`, so only a send made strictly earlier is dropped.
  const before =
    instance.convertedAtRev !== undefined ? rev !== undefined && rev <= instance.convertedAtRev : job.at < at;
  if (!before) return undefined;
  return `the customer reached the goal of journey ${instance.journeyId} at ${new Date(at).toISOString()}, after this send was made`;
}
