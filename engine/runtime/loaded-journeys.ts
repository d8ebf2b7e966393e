import type { Clock } from '../clock.js';
import type { JourneyCatalog } from '../journey/journey-catalog.js';
import type { Logger } from '../logger.js';
import type { RedisConnection } from '../redis/connection.js';
import { NEWER_RELEASE_GRACE_MS } from './newer-version.js';

/**
 * The exit reason of an instance ended because no process loaded its journey for the grace
 * (MISSING_JOURNEY_GRACE_MS): it was removed from the code while the customer was in it.
 */
export const JOURNEY_REMOVED = 'journey-removed';

/**
 * Hash: journey id → `{"at":<ms>,"version":<n>}`, when a process last said it loads the journey
 * and the latest version it loads. One key of its own: on a Redis Cluster every command on it
 * touches that key alone.
 */
export function loadedJourneysKey(prefix: string): string {
  return `${prefix}:journeys:loaded`;
}

/**
 * Hash: journey id → when a worker first met a customer in it that no process had ever said it
 * loads (one removed before processes recorded what they load, as after upgrading to this).
 */
export function missingJourneysKey(prefix: string): string {
  return `${prefix}:journeys:missing`;
}

/** What a process recorded of a journey it loads. */
export interface JourneyLoad {
  /** When a process last said it loads the journey (its clock). */
  at: number;
  /** The latest version that process loads. */
  version: number;
}

/** Where a journey this process does not load stands, for how long it has been missing. */
export interface JourneyAbsence {
  journeyId: string;
  /** Its last record; absent when no process ever recorded it. */
  lastLoad?: JourneyLoad;
  /** When a worker first met it unrecorded (see missingJourneysKey); only without `lastLoad`. */
  missingSince?: number;
}

/** Since when the journey has been loaded by no process: its last record, or when first noticed. */
export function absentSince(absence: JourneyAbsence): number | undefined {
  return absence.lastLoad?.at ?? absence.missingSince;
}

/**
 * How often a process says again which journeys it loads: its sweep interval, at most a sixth of
 * the grace, so that a running process's record never looks older than the grace however long
 * the interval is set.
 */
export function recordIntervalMs(sweepIntervalMs: number): number {
  return Math.min(sweepIntervalMs, NEWER_RELEASE_GRACE_MS / 6);
}

function parseLoad(raw: string | null | undefined): JourneyLoad | undefined {
  if (raw === null || raw === undefined) return undefined;
  try {
    const parsed = JSON.parse(raw) as { at?: unknown; version?: unknown };
    if (typeof parsed.at === 'number' && Number.isFinite(parsed.at))
      return { at: parsed.at, version: typeof parsed.version === 'number' ? parsed.version : 0 };
  } catch {
    // An unreadable record reads as none; the next record of a process loading it replaces it.
  }
  return undefined;
}

/**
 * What every process of a prefix loads, as each says in Redis (see loadedJourneysKey): a worker
 * that meets a customer in a journey it does not load reads it to tell a journey a newer release
 * added (a canary, a rolling deployment: some process loaded it lately) from one removed from
 * `journeys/` (none has, for longer than the grace), whose customers it then takes out of it.
 */
export class LoadedJourneys {
  #watching: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    private readonly catalog: JourneyCatalog,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** How often `watch` records again. */
    readonly intervalMs: number,
  ) {}

  /** Records every journey this process loads, with its latest version, as loaded now. */
  async record(): Promise<void> {
    const now = this.clock.now();
    const fields = this.catalog
      .list()
      .flatMap((journey) => [journey.id, JSON.stringify({ at: now, version: journey.version })]);
    if (fields.length > 0) await this.redis.hset(loadedJourneysKey(this.prefix), ...fields);
  }

  /** Records now, and every `intervalMs` until `stop` (one interval however often called). */
  watch(): void {
    if (this.#stopped) return;
    const record = () =>
      void this.record().catch((err: unknown) =>
        this.logger.error({ err }, 'could not record the journeys this process loads'),
      );
    if (this.#watching === undefined) {
      record();
      this.#watching = setInterval(record, this.intervalMs).unref();
    }
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#watching);
  }

  /**
   * Where each of `journeyIds` (journeys this process does not load) stands. One that no process
   * ever recorded is noted as missing from `now` unless a worker noted it before, so that it
   * counts from when it was first noticed, not from never.
   */
  async absences(journeyIds: readonly string[], now: number): Promise<JourneyAbsence[]> {
    if (journeyIds.length === 0) return [];
    const loads = await this.redis.hmget(loadedJourneysKey(this.prefix), ...journeyIds);
    const absences: JourneyAbsence[] = journeyIds.map((journeyId, at) => {
      const lastLoad = parseLoad(loads[at]);
      return lastLoad ? { journeyId, lastLoad } : { journeyId };
    });
    const unrecorded = absences.filter((absence) => absence.lastLoad === undefined);
    if (unrecorded.length === 0) return absences;
    const key = missingJourneysKey(this.prefix);
    await Promise.all(unrecorded.map(({ journeyId }) => this.redis.hsetnx(key, journeyId, String(now))));
    const since = await this.redis.hmget(key, ...unrecorded.map(({ journeyId }) => journeyId));
    unrecorded.forEach((absence, at) => {
      const noticed = Number(since[at]);
      absence.missingSince = Number.isFinite(noticed) && since[at] !== null ? noticed : now;
    });
    return absences;
  }

  /**
   * Every journey some process recorded or a worker noticed missing that this process does not
   * load, with where it stands (read only: nothing is noted).
   */
  async notLoaded(): Promise<JourneyAbsence[]> {
    const [loads, missing] = await Promise.all([
      this.redis.hgetall(loadedJourneysKey(this.prefix)),
      this.redis.hgetall(missingJourneysKey(this.prefix)),
    ]);
    const ids = new Set([...Object.keys(loads), ...Object.keys(missing)]);
    const absences: JourneyAbsence[] = [];
    for (const journeyId of [...ids].sort()) {
      if (this.catalog.has(journeyId)) continue;
      const lastLoad = parseLoad(loads[journeyId]);
      const noticed = Number(missing[journeyId]);
      absences.push(
        lastLoad
          ? { journeyId, lastLoad }
          : { journeyId, ...(Number.isFinite(noticed) ? { missingSince: noticed } : {}) },
      );
    }
    return absences;
  }
}
