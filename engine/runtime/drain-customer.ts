import type { Clock } from '../clock.js';
import { JourneyNotFoundError, type JourneyCatalog } from '../journey/journey-catalog.js';
import type { Logger } from '../logger.js';
import type { CustomerKeys } from '../store/customer-keys.js';
import { TIMER_DROPPED, type CustomerStore, type LoadedCustomer } from '../store/customer-store.js';
import { applyEvent } from './apply-event.js';
import { NEWER_RELEASE_GRACE_MS, NewerVersionError, refuseNewer } from './newer-version.js';
import type { Command, Note } from './command.js';
import type { CommandExecutor } from './command-executor.js';
import { journeyStatsWrites } from './journey-stats.js';
import { ridesInScripts } from '../store/stats-writes.js';
import { queuePhoneIndexChange } from '../store/phone-index.js';
import { dailyDeltas } from '../store/daily-journey-counts.js';
import type { CustomerEvent } from './customer-event.js';
import { INSTANCE_RECORD_VERSION, type InstanceRecord } from './instance-record.js';
import type { LoadedJourneys } from './loaded-journeys.js';
import { endRemoved, removedJourneys } from './removed-journeys.js';

export interface DrainDependencies {
  store: CustomerStore;
  catalog: JourneyCatalog;
  executor: CommandExecutor;
  clock: Clock;
  logger: Logger;
  /** Called with what each applied event did, for metrics. */
  onNotes?: (customerId: string, notes: readonly Note[]) => void;
  /**
   * What the processes of the prefix load (see LoadedJourneys): without it, a customer in a
   * journey this worker does not load is always left for a newer worker, as if a canary added it.
   */
  loadedJourneys?: LoadedJourneys;
}

/**
 * How long an API entry into a journey of which this worker loads no version waits for a worker
 * that does, counted from when it was accepted. Meanwhile it is left for a worker of a newer release
 * (a canary, a rolling deployment that added the journey) without spending the job's attempts;
 * retried every 15 s, it reaches one within the hour if any runs. After it, the journey is taken
 * to be gone (removed while its entries waited) and the entry is set aside as unapplied, so that
 * the customer's later events go on.
 */
export const MISSING_JOURNEY_GRACE_MS = NEWER_RELEASE_GRACE_MS;

/**
 * Applies a customer's waiting events in arrival order, holding the customer's lease so no
 * other job applies events for them at the same time. `event` (a fired timer) is appended to
 * the inbox in the same step that takes the lease. Returns `busy` when another job holds the
 * lease: that job will see the events too, because it only lets go of an empty inbox.
 *
 * Each batch carries out its commands before committing. Their ids come from the instance's
 * revision, so if the process dies in between, the re-run recomputes the same ids and every
 * command is a no-op the second time: nothing is lost and nothing is sent twice.
 */
export async function drainCustomer(
  deps: DrainDependencies,
  customerId: string,
  token: string,
  event?: CustomerEvent,
): Promise<'drained' | 'busy' | typeof TIMER_DROPPED> {
  const { store } = deps;
  const keys = store.keys(customerId);
  let loaded = await store.acquire(keys, token, event);
  if (loaded === TIMER_DROPPED) {
    deps.logger.info({ customerId, timer: event?.id }, 'timer of an erased customer dropped');
    return TIMER_DROPPED;
  }
  while (loaded) {
    const released =
      loaded.inbox.length === 0
        ? await store.releaseIfIdle(keys, token)
        : await applyBatch(deps, keys, token, loaded);
    if (released) return 'drained';
    loaded = await store.acquire(keys, token);
  }
  return 'busy';
}

/** Applies the loaded inbox head, carries out its commands, commits. Returns whether the lease was released. */
async function applyBatch(
  deps: DrainDependencies,
  keys: CustomerKeys,
  token: string,
  loaded: LoadedCustomer,
): Promise<boolean> {
  const now = deps.clock.now();
  const customerId = keys.customerId;
  const absent = refuseNewerState(customerId, loaded, deps.catalog, now);
  const removed =
    absent.length > 0 ? await removedJourneys(deps.loadedJourneys, customerId, absent, now) : [];
  let customer = loaded.customer;
  const changed = new Map<string, InstanceRecord>();
  const pruned = new Map<string, InstanceRecord>();
  const commands: Command[] = [];
  const dead: Array<{ event: string; reason: string; at: number }> = [];
  const notes: Note[] = [];
  const daily = new Map<string, Map<string, number>>();
  let profileChanged = false;
  if (removed.length > 0) {
    // Ended first, so the customer's events go on in their other journeys without this one.
    const exits = endRemoved(customer, removed, now, deps.logger);
    for (const record of exits.ended) changed.set(record.id, record);
    commands.push(...exits.commands);
    notes.push(...exits.notes);
    dailyDeltas(customer.instances, exits.ended, now, daily);
    customer = exits.customer;
    deps.onNotes?.(customerId, exits.notes);
  }
  for (const entry of loaded.inbox) {
    if (!entry.ok) {
      dead.push({ event: entry.raw, reason: entry.reason, at: now });
      continue;
    }
    try {
      const before = customer.instances;
      const result = applyEvent(customer, entry.event, now, deps.catalog);
      customer = result.customer;
      profileChanged ||= result.profileChanged;
      for (const record of result.pruned) pruned.set(record.id, record);
      const records = result.changed.map((id) => customer.instances.get(id) ?? pruned.get(id)!);
      for (const record of records) changed.set(record.id, record);
      dailyDeltas(before, records, now, daily);
      commands.push(...result.commands);
      notes.push(...result.notes);
      for (const note of result.notes) {
        // The API answered long before: the log is where a caller finds why nothing happened.
        // A property of the wrong type, or missing, is likelier a sender's bug than a filter at work.
        if (note.kind === 'not-entered')
          deps.logger[note.mistyped ? 'warn' : 'info'](
            { customerId, journeyId: note.journeyId, reason: note.reason },
            note.mistyped
              ? 'customer not entered: an event property is missing or of another type'
              : 'customer not entered',
          );
        if (note.kind === 'rejected' || note.kind === 'failed') {
          dead.push({ event: JSON.stringify(entry.event), reason: note.reason, at: now });
          deps.logger.warn({ customerId, eventId: entry.event.id, note }, 'event not applied');
        }
      }
      deps.onNotes?.(customerId, result.notes);
    } catch (error) {
      // A journey version no longer loaded (an older one: see refuseNewerState): fail the job and
      // retry, keeping the event (and the customer's order) until it is deployed again.
      // An API entry into a journey no worker took within the grace (refuseNewerState left it to
      // them until then) is set aside: the journey is gone.
      if (error instanceof JourneyNotFoundError) {
        const event = entry.event;
        if (event.kind !== 'enter' || deps.catalog.has(event.journeyId)) throw error;
        const reason = `journey "${event.journeyId}" is not loaded by any worker that took it within ${MISSING_JOURNEY_GRACE_MS / 60_000} minutes: ${error.message}`;
        dead.push({ event: JSON.stringify(event), reason, at: now });
        deps.logger.warn(
          { customerId, eventId: event.id, journeyId: event.journeyId },
          'entry into a missing journey set aside',
        );
        continue;
      }
      // A bug in a machine: keep the event, move on.
      dead.push({ event: JSON.stringify(entry.event), reason: (error as Error).message, at: now });
      deps.logger.error({ customerId, eventId: entry.event.id, err: error }, 'event could not be applied');
    }
  }
  if (commands.length > 0) {
    // Delivery workers read the profile at send time, possibly before the commit below; and the
    // commands' ids come from the instances' ids, so a re-run must enter the same versions.
    const entries = enteredVersions(notes, changed);
    if (profileChanged || entries)
      await deps.store.saveBeforeCommands(keys, token, {
        ...(profileChanged ? { profile: customer.profile } : {}),
        ...(entries ? { entries } : {}),
      });
    await deps.executor.run(commands);
  }
  const stats = journeyStatsWrites({
    prefix: deps.store.prefix,
    customerId,
    before: loaded.customer.instances,
    changed: [...changed.values()],
    daily,
    notes,
    now,
  });
  // The customers a text's STOP names by number: kept with the profile it is read from.
  if (profileChanged)
    queuePhoneIndexChange(stats, deps.store.prefix, customerId, loaded.customer.profile, customer.profile);
  const statsRide = ridesInScripts(deps.store.redis);
  const { released, statsError } = await deps.store.commit(keys, token, {
    expectedRev: loaded.rev,
    consumed: loaded.inbox.length,
    ...(profileChanged ? { profile: customer.profile } : {}),
    instances: [...changed.values()].filter((record) => !pruned.has(record.id)),
    ...(pruned.size > 0 ? { pruned: [...pruned.values()] } : {}),
    dead,
    ...(statsRide && stats.length > 0 ? { stats } : {}),
  });
  const notCounted = (err: unknown) =>
    deps.logger.error(
      { customerId, err },
      'journey statistics or the phone index not updated (recountJourneys and rebuildPhoneIndex repair them)',
    );
  if (statsError) notCounted(new Error(statsError));
  if (!statsRide) await stats.issue(deps.store.redis).catch(notCounted);
  return released;
}

/** The journey version of each instance the batch entered, by instance id; `undefined` for none. */
function enteredVersions(
  notes: readonly Note[],
  changed: ReadonlyMap<string, InstanceRecord>,
): Record<string, number> | undefined {
  let entries: Record<string, number> | undefined;
  for (const note of notes) {
    const record = note.kind === 'entered' ? changed.get(note.instanceId) : undefined;
    if (record) (entries ??= {})[record.id] = record.journeyVersion;
  }
  return entries;
}

/**
 * A customer whose inbox or instances hold something a newer version of Chorus wrote is left to
 * a newer worker, whole: applying the events before it would break their order, and an instance
 * of a newer shape cannot be stepped safely. So is a customer in a journey version above the
 * latest this worker loads: only a newer release (a canary, a rolling deployment) could have
 * entered them, and one of its workers will apply the events. Failing the job instead would spend
 * its attempts on every older worker it reached meanwhile, as for any data a newer release wrote.
 * The journey worker puts the job back for later (leaveForNewerWorker).
 *
 * Returns the active instances in journeys this worker does not load at all, which a newer release
 * may have added or which may have been removed: removedJourneys (removed-journeys.ts) tells them
 * apart.
 */
function refuseNewerState(
  customerId: string,
  loaded: LoadedCustomer,
  catalog: JourneyCatalog,
  now: number,
): InstanceRecord[] {
  for (const entry of loaded.inbox) {
    if (!entry.ok && entry.newer !== undefined)
      throw new NewerVersionError(`An event in the inbox of customer "${customerId}"`, entry.newer);
    // An API entry into a journey, or a version of it, this worker does not load: a worker of the
    // newer release enters the customer. After the grace, the latest loaded here, or none.
    const event = entry.ok ? entry.event : undefined;
    if (event?.kind !== 'enter' || now - (event.receivedAt ?? event.timestamp) >= MISSING_JOURNEY_GRACE_MS)
      continue;
    if (!catalog.has(event.journeyId))
      throw new NewerVersionError(
        `Journey "${event.journeyId}", which customer "${customerId}" is to enter,`,
      );
    if (event.journeyVersion !== undefined && event.journeyVersion > latestVersion(catalog, event.journeyId))
      throw new NewerVersionError(
        `The entry of customer "${customerId}" into journey "${event.journeyId}"`,
        event.journeyVersion,
      );
  }
  // A run of this step on a newer release entered the customer in a version this worker lacks.
  for (const [instance, version] of Object.entries(loaded.customer.pinnedEntries ?? {})) {
    const journeyId = instance.slice(0, instance.lastIndexOf('.'));
    if (version > latestVersion(catalog, journeyId))
      throw new NewerVersionError(
        `Journey "${journeyId}" of instance ${instance} of customer "${customerId}", entered by a step that did not commit,`,
        version,
      );
  }
  const absent: InstanceRecord[] = [];
  for (const record of loaded.customer.instances.values()) {
    refuseNewer(`Instance ${record.id} of customer "${customerId}"`, record, INSTANCE_RECORD_VERSION);
    // A journey this worker does not load at all: one a newer release (a canary) added and entered
    // the customer in, or one removed while customers were in it. Only what the other processes
    // load tells them apart (removedJourneys).
    if (record.status === 'active' && !catalog.has(record.journeyId)) {
      absent.push(record);
      continue;
    }
    if (record.status === 'active' && record.journeyVersion > latestVersion(catalog, record.journeyId))
      throw new NewerVersionError(
        `Journey "${record.journeyId}" of instance ${record.id} of customer "${customerId}"`,
        record.journeyVersion,
      );
  }
  return absent;
}

/**
 * The latest version of the journey this worker loads; above every version for a journey it does
 * not load at all (refuseNewerState leaves a customer in one to a newer worker, naming both causes).
 */
function latestVersion(catalog: JourneyCatalog, journeyId: string): number {
  return catalog.has(journeyId) ? catalog.latest(journeyId).version : Number.POSITIVE_INFINITY;
}
