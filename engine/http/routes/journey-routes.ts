import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Clock } from '../../clock.js';
import type { Engine } from '../../engine.js';
import { buildJourneyReport, checkReportPeriod } from '../../analytics/journey-report.js';
import {
  InvalidInputError,
  IsoInstant,
  MessageId,
  Timestamp,
  TriggerInput,
} from '../../ingest/ingest-schema.js';
import type { Journey } from '../../journey/define-journey.js';
import { allStateNodes, statePath } from '../../journey/machine-walk.js';
import { isStage } from '../../journey/stage.js';
import { readJourneyCounts, type JourneyCounts } from '../../store/journey-counts.js';
import type { JourneyAbsence } from '../../runtime/loaded-journeys.js';
import { orEmpty, orNone } from '../null-fields.js';
import { Accepted } from './ingest-routes.js';

/** A trigger over HTTP, whose optional fields may come as null, as a Segment call's may. */
const TriggerBody = TriggerInput.extend({
  data: orEmpty(TriggerInput.shape.data),
  messageId: orNone(MessageId.optional()),
  timestamp: orNone(Timestamp),
});

const DAY_MS = 86_400_000;

/**
 * The last millisecond of 9999, the latest instant the ISO forms can write. Epoch milliseconds
 * are held to it too: past year 275760 a number is no date at all, and the report, which turns
 * its period into dates, failed on one with a 500.
 */
const LATEST_MS = Date.parse('9999-12-31T23:59:59.999Z');

const INSTANT_FORMS =
  'a date (YYYY-MM-DD, in UTC), an ISO 8601 date-time with offset, or epoch milliseconds, from 1970 to 9999';

const PLUS_LOST = "the offset's + was sent as it is, which a query string reads as a space: send it as %2B";

/** A date-time whose offset's `+` was read as a space (`…T10:00:00 01:00`), as `date -Iseconds` gives. */
const plusLost = (input: unknown) => typeof input === 'string' && /T[\d:.]+ \d\d(:?\d\d)?$/.test(input);

/**
 * An instant in a query string: an ISO 8601 date-time with offset, epoch milliseconds, or a plain
 * date (`YYYY-MM-DD`, a UTC day). A date stands for the start of its day, or with `end` for its
 * end: the next midnight, as a period's `to` is exclusive.
 */
const instant = (day: 'start' | 'end') =>
  z.union(
    [
      // Digits only: coercing would read an empty `from=` as 0, 1970.
      z
        .string()
        .regex(/^\d{1,16}$/)
        .transform(Number)
        .refine((ms) => ms <= LATEST_MS, INSTANT_FORMS),
      IsoInstant.transform((value) => Date.parse(value)),
      z.iso
        .date()
        .transform((value) => Date.parse(value) + (day === 'end' ? DAY_MS : 0))
        .refine((ms) => ms >= 0, INSTANT_FORMS),
    ],
    { error: (issue) => (plusLost(issue.input) ? `${INSTANT_FORMS}; ${PLUS_LOST}` : INSTANT_FORMS) },
  );

const JourneyState = z.object({
  state: z.string(),
  stage: z
    .string()
    .describe(
      'the funnel stage the state is tagged with: `none` when untagged, `unknown` when no loaded version has the state',
    ),
  customers: z.number(),
  versions: z
    .array(z.number())
    .optional()
    .describe(
      'only on a state the latest version does not have: the versions whose customers are in it, which must stay loaded until they finish',
    ),
});

const JourneySummary = z.object({
  id: z.string(),
  version: z
    .number()
    .describe(
      'the latest version; new customers start on it. For a journey not loaded: the latest a process last loaded, else the highest customers are in',
    ),
  loaded: z
    .boolean()
    .describe(
      'false for a journey this process does not load that customers are still active in: removed from the code (they leave it, exit reason `journey-removed`, once no process has loaded it for an hour), or added by a newer release this process is not part of',
    ),
  lastLoadedAt: z
    .string()
    .optional()
    .describe('only when not loaded: when a process last said it loads the journey (ISO 8601)'),
  missingSince: z
    .string()
    .optional()
    .describe(
      'only when not loaded and no process ever said it loads it: when a worker first met one of its customers (ISO 8601)',
    ),
  description: z.string().optional(),
  trigger: z
    .object({ event: z.string() })
    .or(z.object({ api: z.literal(true) }))
    .optional()
    .describe('what enters customers; absent for a journey not loaded'),
  states: z
    .array(JourneyState)
    .describe(
      'every state of the latest version, with the customers in it now (all versions); then each state only other versions have that their customers are still in (for a journey not loaded, every state its customers are in)',
    ),
  stages: z.record(z.string(), z.number()).describe('customers in each funnel stage now'),
  funnel: z
    .record(z.string(), z.number())
    .describe('customers who got at least as far as each stage, whether still there or not'),
  entered: z.number(),
  converted: z.number().describe("instances that reached the journey's goal"),
  exits: z.record(z.string(), z.number()).describe('finished instances by how they ended'),
  experiments: z
    .record(z.string(), z.object({ entered: z.number(), converted: z.number() }))
    .describe('per split arm (`<split>=<arm>`): instances assigned to it and those that reached the goal'),
  versions: z.array(
    z.object({
      version: z.number(),
      entered: z.number(),
      converted: z.number(),
      active: z.number(),
      reached: z.record(z.string(), z.number()),
      variants: z.record(z.string(), z.object({ entered: z.number(), converted: z.number() })),
      states: z.record(z.string(), z.number()),
      stages: z.record(z.string(), z.number()),
      exits: z.record(z.string(), z.number()),
    }),
  ),
});

/** The leaf states of a journey with the funnel stage each is tagged with. */
function statesOf(journey: Journey): Array<{ state: string; stage: string }> {
  return allStateNodes(journey.machine)
    .filter((node) => node.type === 'atomic' || node.type === 'final')
    .map((node) => ({ state: statePath(node), stage: [...node.tags].find(isStage) ?? 'none' }));
}

const sum = (records: ReadonlyArray<Record<string, number>>) => {
  const total: Record<string, number> = {};
  for (const record of records) for (const [k, n] of Object.entries(record)) total[k] = (total[k] ?? 0) + n;
  return total;
};

const sumArms = (records: ReadonlyArray<Record<string, { entered: number; converted: number }>>) => {
  const total: Record<string, { entered: number; converted: number }> = {};
  for (const record of records)
    for (const [arm, n] of Object.entries(record)) {
      const sum = (total[arm] ??= { entered: 0, converted: 0 });
      sum.entered += n.entered;
      sum.converted += n.converted;
    }
  return total;
};

/**
 * The states a journey lists: every state of the latest version, with its customers in any
 * version; then each state the latest version lacks that customers of another version are still
 * in (an older version still running, or a newer one a worker already loads), so every customer
 * counted in a stage is in some state of the list.
 */
function journeyStates(
  latest: Journey | undefined,
  versions: readonly JourneyCounts[],
  loaded: (version: number) => Journey | undefined,
): Array<z.infer<typeof JourneyState>> {
  const totals = sum(versions.map((v) => v.states));
  const listed = (latest ? statesOf(latest) : []).map((s) => ({ ...s, customers: totals[s.state] ?? 0 }));
  const inLatest = new Set(listed.map((s) => s.state));
  const others = new Map<string, { state: string; stage: string; customers: number; versions: number[] }>();
  // Newest first, so a state several versions have takes its stage from the newest loaded one.
  for (const counts of [...versions].reverse()) {
    const definition = loaded(counts.version);
    const stages = new Map(definition ? statesOf(definition).map((s) => [s.state, s.stage]) : []);
    for (const [state, customers] of Object.entries(counts.states).sort(([a], [b]) => a.localeCompare(b))) {
      if (inLatest.has(state)) continue;
      const entry = others.get(state) ?? { state, stage: 'unknown', customers: 0, versions: [] };
      others.set(state, entry);
      if (entry.stage === 'unknown') entry.stage = stages.get(state) ?? 'unknown';
      entry.customers += customers;
      entry.versions.unshift(counts.version);
    }
  }
  return [...listed, ...others.values()];
}

export const journeyRoutes: FastifyPluginAsyncZod<{ engine: Engine; clock: Clock }> = async (
  app,
  { engine, clock },
) => {
  async function summary(journey: Journey): Promise<z.infer<typeof JourneySummary>> {
    const versions = await readJourneyCounts(engine.store.redis, engine.prefix, journey.id);
    return {
      id: journey.id,
      version: journey.version,
      loaded: true,
      ...(journey.description ? { description: journey.description } : {}),
      trigger: journey.trigger.kind === 'api' ? { api: true as const } : { event: journey.trigger.event },
      ...figures(journey, versions),
    };
  }

  /** A journey this process does not load, from its counts and what the processes recorded. */
  async function notLoadedSummary(absence: JourneyAbsence): Promise<z.infer<typeof JourneySummary>> {
    const versions = await readJourneyCounts(engine.store.redis, engine.prefix, absence.journeyId);
    const iso = (ms: number) => new Date(ms).toISOString();
    return {
      id: absence.journeyId,
      version: absence.lastLoad?.version ?? versions.at(-1)?.version ?? 0,
      loaded: false,
      ...(absence.lastLoad ? { lastLoadedAt: iso(absence.lastLoad.at) } : {}),
      ...(absence.missingSince === undefined ? {} : { missingSince: iso(absence.missingSince) }),
      ...figures(undefined, versions),
    };
  }

  /** The journeys this process does not load that customers are still active in. */
  async function notLoadedSummaries(): Promise<Array<z.infer<typeof JourneySummary>>> {
    const all = await Promise.all((await engine.loadedJourneys.notLoaded()).map(notLoadedSummary));
    return all.filter((journey) => journey.versions.some((v) => v.active > 0));
  }

  /** What the counts say of a journey: `latest` is its latest version, when this process loads it. */
  function figures(latest: Journey | undefined, versions: readonly JourneyCounts[]) {
    return {
      states: journeyStates(latest, versions, (v) => latest && engine.catalog.loadedVersion(latest.id, v)),
      stages: sum(versions.map((v) => v.stages)),
      funnel: sum(versions.map((v) => v.reached)),
      entered: versions.reduce((n, v) => n + v.entered, 0),
      converted: versions.reduce((n, v) => n + v.converted, 0),
      exits: sum(versions.map((v) => v.exits)),
      experiments: sumArms(versions.map((v) => v.variants)),
      versions: [...versions],
    };
  }

  app.get(
    '/v1/journeys',
    {
      schema: {
        tags: ['journeys'],
        summary: 'Every journey, with customers per state and per stage',
        response: { 200: z.object({ journeys: z.array(JourneySummary) }) },
      },
    },
    async () => {
      const [loaded, notLoaded] = await Promise.all([
        Promise.all(engine.catalog.list().map(summary)),
        notLoadedSummaries(),
      ]);
      return { journeys: [...loaded, ...notLoaded] };
    },
  );

  app.get(
    '/v1/journeys/:id',
    {
      schema: {
        tags: ['journeys'],
        summary: 'One journey, with customers per state and per stage',
        params: z.object({ id: z.string() }),
        response: { 200: JourneySummary },
      },
    },
    async (request) => {
      const { id } = request.params;
      if (engine.catalog.has(id)) return summary(engine.catalog.latest(id));
      // One a process recorded or a worker noticed missing: its customers may still be in it.
      const absence = (await engine.loadedJourneys.notLoaded()).find((journey) => journey.journeyId === id);
      return absence ? notLoadedSummary(absence) : summary(engine.catalog.latest(id));
    },
  );

  app.get(
    '/v1/journeys/:id/report',
    {
      schema: {
        tags: ['journeys'],
        summary:
          'A journey report: funnel by stage, customers per state, conversions, attribution under five models, experiments, objective progress',
        params: z.object({ id: z.string() }),
        querystring: z.object({
          // Described before `.optional()`: a description on the optional empties the union's
          // branches in the OpenAPI document (`anyOf: []`, which no value matches).
          from: instant('start')
            .describe(
              'the period from: a date (YYYY-MM-DD, from its start in UTC), an ISO 8601 date-time with offset, or epoch ms; default 30 days before `to`',
            )
            .optional(),
          to: instant('end')
            .describe(
              'the period until, exclusive: a date (YYYY-MM-DD, to the end of that day in UTC), an ISO 8601 date-time with offset, or epoch ms; default now',
            )
            .optional(),
        }),
        response: { 200: z.record(z.string(), z.unknown()) },
      },
    },
    async (request) => {
      const journey = engine.catalog.latest(request.params.id);
      const now = clock.now();
      const to = request.query.to ?? now;
      // Not before 1970, which a given `from` cannot be either: `to=0` reports from its start.
      const from = request.query.from ?? Math.max(0, to - 30 * 86_400_000);
      try {
        checkReportPeriod(from, to);
      } catch (error) {
        throw error instanceof InvalidInputError ? error.relocated((field) => `querystring.${field}`) : error;
      }
      return {
        ...(await buildJourneyReport({
          redis: engine.store.redis,
          prefix: engine.prefix,
          journey,
          from,
          to,
          now,
          logger: request.log,
        })),
      };
    },
  );

  app.post(
    '/v1/journeys/:id/trigger',
    {
      schema: {
        tags: ['journeys'],
        summary:
          "Enter one customer into an API-triggered journey, with data for the journey's trigger schema",
        params: z.object({ id: z.string() }),
        body: TriggerBody,
        response: { 202: Accepted },
      },
    },
    async (request, reply) => {
      const result = await engine.trigger(request.params.id, request.body).catch((error: unknown) => {
        // The engine names the journey and the trigger data; here they are the path and the body.
        throw error instanceof InvalidInputError
          ? error.relocated((field) =>
              field === 'journeyId' ? 'params.id' : field === '(root)' ? 'body' : `body.${field}`,
            )
          : error;
      });
      return reply.code(202).send({ eventId: result.eventId, duplicate: !result.accepted });
    },
  );
};
