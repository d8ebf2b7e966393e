import type { Logger } from '../logger.js';
import type { Command, Note } from './command.js';
import type { CustomerState, InstanceRecord } from './instance-record.js';
import { finish } from './instance-step.js';
import { absentSince, JOURNEY_REMOVED, type JourneyAbsence, type LoadedJourneys } from './loaded-journeys.js';
import { NEWER_RELEASE_GRACE_MS, NewerVersionError } from './newer-version.js';

/** An active instance of a journey no process has loaded within the grace, and where that journey stands. */
export interface RemovedInstance {
  record: InstanceRecord;
  absence: JourneyAbsence;
}

const GRACE_MINUTES = NEWER_RELEASE_GRACE_MS / 60_000;

/**
 * Of a customer's active instances in journeys this worker does not load (`absent`), those of
 * journeys no process has loaded within the grace (MISSING_JOURNEY_GRACE_MS, the same as for API
 * entries): removed from the code, they are to be ended. When any was loaded by some process
 * within it (a canary or a rolling deployment that added it, or a process of the release before
 * still running one that is being removed), the customer is left whole to such a worker, as for
 * any data of a newer release (NewerVersionError). A journey no process ever recorded (removed
 * before processes recorded what they load) counts from when a worker first met it. Without
 * `loaded`, none is ended.
 */
export async function removedJourneys(
  loaded: LoadedJourneys | undefined,
  customerId: string,
  absent: readonly InstanceRecord[],
  now: number,
): Promise<RemovedInstance[]> {
  const ids = [...new Set(absent.map((record) => record.journeyId))];
  const absences = loaded ? await loaded.absences(ids, now) : [];
  const byId = new Map(absences.map((absence) => [absence.journeyId, absence]));
  return absent.map((record) => {
    const absence = byId.get(record.journeyId);
    const since = absence && absentSince(absence);
    if (absence === undefined || since === undefined || now - since < NEWER_RELEASE_GRACE_MS)
      throw new NewerVersionError(
        `Journey "${record.journeyId}" of instance ${record.id} of customer "${customerId}"`,
        undefined,
        `if it was removed from journeys/ instead, its customers leave it (exit reason ${JOURNEY_REMOVED}) once no process has loaded it for ${GRACE_MINUTES} minutes`,
      );
    return { record, absence };
  });
}

/**
 * Ends each removed instance as done with the exit reason JOURNEY_REMOVED, a revision of its own:
 * its timers are cancelled (one that fires anyway finds the instance ended and is dropped) and its
 * sends still queued are not sent (journey-exit.ts), as when an archived Canvas or campaign exits
 * its users. Each is logged as a warning.
 */
export function endRemoved(
  customer: CustomerState,
  removed: readonly RemovedInstance[],
  now: number,
  logger: Logger,
): { customer: CustomerState; ended: InstanceRecord[]; commands: Command[]; notes: Note[] } {
  const instances = new Map(customer.instances);
  const ended: InstanceRecord[] = [];
  const commands: Command[] = [];
  const notes: Note[] = [];
  for (const { record, absence } of removed) {
    const exit = finish({ ...record, rev: record.rev + 1, updatedAt: now }, JOURNEY_REMOVED);
    instances.set(exit.record.id, exit.record);
    ended.push(exit.record);
    commands.push(...exit.commands);
    notes.push({
      kind: 'exited',
      journeyId: record.journeyId,
      instanceId: record.id,
      reason: JOURNEY_REMOVED,
    });
    logger.warn(
      {
        customerId: customer.customerId,
        journeyId: record.journeyId,
        journeyVersion: record.journeyVersion,
        instanceId: record.id,
        ...(absence.lastLoad
          ? { lastLoadedAt: new Date(absence.lastLoad.at).toISOString() }
          : { missingSince: new Date(absence.missingSince ?? now).toISOString() }),
      },
      `customer taken out of a journey no process has loaded for ${GRACE_MINUTES} minutes: it was removed from the code`,
    );
  }
  return { customer: { ...customer, instances }, ended, commands, notes };
}
