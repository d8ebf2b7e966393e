import { ChorusError } from '../errors.js';
import { isTimeZone } from '../local-time.js';
import type { Journey } from './define-journey.js';
import { validateJourney, type JourneyProblem, type MessageCatalog } from './validate-journey.js';

/** The problem of an id and version that two definitions share. */
export const DEFINED_TWICE =
  'This id and version are defined twice. To fix: give the newer definition a higher version.';

export class JourneyValidationError extends ChorusError {
  constructor(readonly problems: readonly JourneyProblem[]) {
    super(
      'CHORUS_JOURNEY_INVALID',
      `${problems.length} problem(s) in the journeys:\n` +
        problems.map((p) => `- ${p.journey}${p.state ? ` (state ${p.state})` : ''}: ${p.message}`).join('\n'),
    );
  }
}

/** What was looked for and what is loaded, for the message of a {@link JourneyNotFoundError}. */
export interface JourneyLookup {
  /** The version looked for; none: the journey's latest. */
  version?: number | string;
  /**
   * The versions of the journey that are loaded, when someone asked for `version` (the CLI's
   * `<journey>@<version>`). Without them, the version is one that customers are still in.
   */
  loadedVersions?: readonly number[];
  /** The ids of the journeys that are loaded, listed when none of the id is. */
  loadedIds?: readonly string[];
}

export class JourneyNotFoundError extends ChorusError {
  constructor(journeyId: string, lookup: JourneyLookup = {}) {
    super('CHORUS_JOURNEY_NOT_FOUND', notFoundMessage(journeyId, lookup));
  }
}

function notFoundMessage(journeyId: string, { version, loadedVersions, loadedIds }: JourneyLookup): string {
  if (version === undefined || loadedVersions?.length === 0) {
    const loaded =
      loadedIds === undefined ? '' : ` (loaded: ${loadedIds.length > 0 ? loadedIds.join(', ') : 'none'})`;
    return `No journey "${journeyId}" is loaded${loaded}. To fix: check the id, or add the journey to the engine's journeys.`;
  }
  if (loadedVersions)
    return (
      `Journey "${journeyId}" has no version ${version} among the loaded ones ` +
      `(${loadedVersions.join(', ')}). To fix: name one of those, e.g. ${journeyId}@${loadedVersions.at(-1)}, ` +
      `or the id alone for the latest.`
    );
  return (
    `Journey "${journeyId}" version ${version} is not loaded, but customers are still in it. ` +
    'To fix: keep that version in journeys/ until its customers have finished.'
  );
}

export interface JourneyCatalogOptions {
  /** The IANA zone of customers whose `timezone` trait names none (DEFAULT_TIMEZONE). Default UTC. */
  timezone?: string;
  /**
   * How many finished (done or failed) instances of each journey a customer keeps
   * (KEEP_FINISHED_INSTANCES); older ones are dropped at the customer's next event. At least 1,
   * which the re-entry policy `never` and the numbering of entries rely on. Default 5.
   */
  keepFinished?: number;
}

/** The default of {@link JourneyCatalogOptions.keepFinished}. */
export const KEEP_FINISHED_DEFAULT = 5;

/**
 * The journeys an engine runs: every version of each, checked together. New entries take a
 * journey's latest version; customers already in flight stay on the version they started.
 */
export class JourneyCatalog {
  readonly #versions = new Map<string, Map<number, Journey>>();
  readonly #latest = new Map<string, Journey>();
  readonly #byTrigger = new Map<string, Journey[]>();

  /** The IANA zone of customers whose `timezone` trait names none, for waits until a local time. */
  readonly timezone: string;
  /** Finished instances of each journey a customer keeps (see {@link JourneyCatalogOptions.keepFinished}). */
  readonly keepFinished: number;

  constructor(journeys: readonly Journey[], messages: MessageCatalog, options: JourneyCatalogOptions = {}) {
    this.timezone = options.timezone ?? 'UTC';
    this.keepFinished = options.keepFinished ?? KEEP_FINISHED_DEFAULT;
    const problems: JourneyProblem[] = [];
    if (!Number.isInteger(this.keepFinished) || this.keepFinished < 1)
      problems.push({
        journey: '(all journeys)',
        message: `keepFinished is ${this.keepFinished}; it must be a whole number of at least 1. To fix: pass 1 or more (default ${KEEP_FINISHED_DEFAULT}).`,
      });
    if (!isTimeZone(this.timezone))
      problems.push({
        journey: '(all journeys)',
        message: `The default time zone "${this.timezone}" is not an IANA time zone. To fix: give one such as "Europe/Berlin" or "UTC".`,
      });
    for (const journey of journeys) {
      const versions = this.#versions.get(journey.id) ?? new Map<number, Journey>();
      if (versions.has(journey.version)) {
        problems.push({
          journey: `${journey.id}@${journey.version}`,
          message: DEFINED_TWICE,
        });
      }
      versions.set(journey.version, journey);
      this.#versions.set(journey.id, versions);
      problems.push(...validateJourney(journey, messages));
    }
    if (problems.length > 0) throw new JourneyValidationError(problems);
    for (const [id, versions] of this.#versions) {
      const latest = [...versions.values()].sort((a, b) => b.version - a.version)[0]!;
      this.#latest.set(id, latest);
      if (latest.trigger.kind === 'event') {
        const list = this.#byTrigger.get(latest.trigger.event) ?? [];
        list.push(latest);
        this.#byTrigger.set(latest.trigger.event, list);
      }
    }
  }

  /** The latest version of each journey. */
  list(): Journey[] {
    return [...this.#latest.values()];
  }

  /** Whether any version of this journey is loaded. */
  has(journeyId: string): boolean {
    return this.#latest.has(journeyId);
  }

  latest(journeyId: string): Journey {
    const journey = this.#latest.get(journeyId);
    if (!journey) throw new JourneyNotFoundError(journeyId, { loadedIds: [...this.#latest.keys()] });
    return journey;
  }

  version(journeyId: string, version: number): Journey {
    const journey = this.loadedVersion(journeyId, version);
    if (!journey) throw new JourneyNotFoundError(journeyId, { version });
    return journey;
  }

  /** This version of the journey, or undefined when it is not loaded. */
  loadedVersion(journeyId: string, version: number): Journey | undefined {
    return this.#versions.get(journeyId)?.get(version);
  }

  /** Journeys (latest versions) that a `track` event with this name enrols customers into. */
  triggeredBy(eventName: string): readonly Journey[] {
    return this.#byTrigger.get(eventName) ?? [];
  }
}
