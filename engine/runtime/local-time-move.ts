import type { Journey } from '../journey/define-journey.js';
import { localTimeWaitEnd } from '../local-time.js';
import type { Command } from './command.js';
import { timerJobId } from './ids.js';
import { AFTER_EVENT } from './instance-step.js';
import { withLocalWaits, type InstanceRecord } from './instance-record.js';

/**
 * Moves an instance's pending waits until a local time (`j.atLocalTime('10:00')`) to the same
 * local time in the customer's new zone, `zone` (`from`: the zone they were computed in), as
 * Braze and Customer.io follow a customer who moves: a Berlin 10:00 wait of a customer who
 * moved to New York ends at 10:00 in New York, not at 04:00 there.
 *
 * A wait ends where it would have, had the customer been in the new zone when it began (when its
 * state was entered): the next showing of its time there, as the step that entered the state
 * computes it. When that moment is already past (a customer who moved east), the timer fires at
 * once. The result depends only on when the wait began and on the zone, not on `now`: moving
 * back restores the first due time, and a batch re-run after it died before its commit makes the
 * same timer again. A wait set before its start was kept on the instance is counted from `now`.
 *
 * Each moved timer becomes a new timer job, made by a revision of its own, and the old one is
 * cancelled: the instance names the new job under the same xstate send id, so the machine takes
 * its event as the wait's own (the stored state, value and context, holds no due time that
 * could disagree), and the old job, should it run anyway, is dropped as stale (its id
 * is no longer on the instance). Duration waits (`'2d'`) are not moved. Returns `undefined` when
 * no wait moves.
 */
export function moveLocalTimeWaits(
  journey: Journey,
  customerId: string,
  record: InstanceRecord,
  from: string,
  zone: string,
  now: number,
): { record: InstanceRecord; commands: Command[] } | undefined {
  const rev = record.rev + 1;
  const timers = { ...record.timers };
  const localWaits = { ...record.localWaits };
  const commands: Command[] = [];
  let index = 0;
  for (const [sendId, jobId] of Object.entries(record.timers)) {
    // Only an `after` wait's send id is its event type: a delayed raise cannot wait for a local time.
    const time = sendId.startsWith(AFTER_EVENT) ? journey.localTimeWaits[sendId] : undefined;
    if (!time) continue;
    const began = record.localWaits?.[sendId];
    const dueAt = localTimeWaitEnd(began ?? now, zone, time);
    // A zone with the same clocks (Berlin and Paris) leaves the wait where it is.
    if (began !== undefined && dueAt === localTimeWaitEnd(began, from, time)) continue;
    const next = timerJobId(customerId, record.id, rev, index++);
    const at = Math.max(dueAt, now);
    commands.push(
      { type: 'cancel', jobId },
      {
        type: 'schedule',
        jobId: next,
        customerId,
        instanceId: record.id,
        sendId,
        eventType: sendId,
        dueAt: at,
        delayMs: at - now,
      },
    );
    timers[sendId] = next;
    localWaits[sendId] = began ?? now;
  }
  if (commands.length === 0) return undefined;
  return {
    record: withLocalWaits({ ...record, rev, timers, updatedAt: now }, localWaits),
    commands,
  };
}
