// `npm run bench`: every benchmark, one after another in this process, each against its
// baseline measured in the same run on the same Redis, then one table of the figures.
//
// Usage: npm run bench                         (all)
//        npm run bench -- transitions latency  (some: transitions ingest sends latency lateness memory enrol)
// Each benchmark's knobs are its own env variables; see bench/README.md.
import { benchEnrol, enrolOptionsFromEnv, enrolReport, enrolRows, type EnrolOptions } from './enrol.js';
import { benchIngest, ingestOptionsFromEnv, ingestReport, ingestRows, type IngestOptions } from './ingest.js';
import {
  benchLateness,
  latenessOptionsFromEnv,
  latenessReport,
  latenessRows,
  type LatenessOptions,
} from './lateness.js';
import {
  benchLatency,
  latencyOptionsFromEnv,
  latencyReport,
  latencyRows,
  type LatencyOptions,
} from './latency.js';
import { benchMemory, memoryOptionsFromEnv, memoryReport, memoryRows, type MemoryOptions } from './memory.js';
import { benchSends, sendsOptionsFromEnv, sendsReport, sendsRows, type SendsOptions } from './sends.js';
import { formatTable, isMain, type BenchRow } from './support.js';
import {
  benchTransitions,
  transitionsOptionsFromEnv,
  transitionsReport,
  transitionsRows,
  type TransitionsOptions,
} from './transitions.js';

export const BENCHMARKS = [
  'transitions',
  'ingest',
  'sends',
  'latency',
  'lateness',
  'memory',
  'enrol',
] as const;
export type BenchName = (typeof BENCHMARKS)[number];

export interface AllOptions {
  transitions: TransitionsOptions;
  ingest: IngestOptions;
  sends: SendsOptions;
  latency: LatencyOptions;
  lateness: LatenessOptions;
  memory: MemoryOptions;
  enrol: EnrolOptions;
}

/** Every benchmark's options from its env knobs; the Nagle-on email row is left to `bench:sends`. */
export function allOptionsFromEnv(): AllOptions {
  return {
    transitions: transitionsOptionsFromEnv(),
    ingest: ingestOptionsFromEnv(),
    sends: { ...sendsOptionsFromEnv(), nagle: false },
    latency: latencyOptionsFromEnv(),
    lateness: latenessOptionsFromEnv(),
    memory: memoryOptionsFromEnv(),
    enrol: enrolOptionsFromEnv(),
  };
}

/** The names asked for on the command line (all when none), or an error naming the known ones. */
export function parseBenchNames(args: readonly string[]): BenchName[] {
  const aliases: Record<string, BenchName> = { emails: 'sends', email: 'sends', delayed: 'lateness' };
  const names = args.map((arg) => aliases[arg] ?? arg);
  const unknown = names.filter((name) => !(BENCHMARKS as readonly string[]).includes(name));
  if (unknown.length > 0)
    throw new Error(`unknown benchmark ${unknown.join(', ')}; choose from: ${BENCHMARKS.join(' ')}`);
  return names.length === 0 ? [...BENCHMARKS] : BENCHMARKS.filter((name) => names.includes(name));
}

/**
 * Runs the named benchmarks in order, passing each one's own report to `log` as it finishes, and
 * returns the table's rows. A benchmark that throws gets a row saying so; the others still run.
 */
export async function runBenchmarks(
  names: readonly BenchName[],
  o: AllOptions,
  log: (text: string) => void,
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  let ingestBaseline: number | undefined;
  const steps: Record<BenchName, () => Promise<void>> = {
    transitions: async () => {
      const f = await benchTransitions(o.transitions);
      log(transitionsReport(f));
      rows.push(...transitionsRows(f));
    },
    ingest: async () => {
      const f = await benchIngest(o.ingest);
      ingestBaseline = f.baseline;
      log(ingestReport(f));
      rows.push(...ingestRows(f));
    },
    sends: async () => {
      const f = await benchSends(o.sends);
      log(sendsReport(f));
      rows.push(...sendsRows(f));
    },
    latency: async () => {
      const f = await benchLatency(o.latency);
      log(latencyReport(f));
      rows.push(...latencyRows(f));
    },
    lateness: async () => {
      const f = await benchLateness(o.lateness);
      log(latenessReport(f));
      rows.push(...latenessRows(f));
    },
    memory: async () => {
      const f = await benchMemory(o.memory);
      log(memoryReport(f));
      rows.push(...memoryRows(f));
    },
    enrol: async () => {
      const f = await benchEnrol(o.enrol);
      log(enrolReport(f));
      rows.push(...enrolRows(f, ingestBaseline));
    },
  };
  for (const name of names) {
    const started = performance.now();
    try {
      await steps[name]();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`${name} failed: ${message}\n`);
      rows.push({
        measure: name,
        baseline: '-',
        chorus: '-',
        figure: `failed: ${message}`,
        target: '-',
        met: false,
      });
    }
    log(`(${name}: ${((performance.now() - started) / 1000).toFixed(0)} s)\n\n`);
  }
  return rows;
}

if (isMain(import.meta.url)) {
  const names = parseBenchNames(process.argv.slice(2));
  const started = performance.now();
  const rows = await runBenchmarks(names, allOptionsFromEnv(), (text) => process.stdout.write(text));
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    `${formatTable(rows)}\n\nran ${names.join(', ')} in ${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s\n`,
  );
  process.exitCode = rows.some((row) => row.figure.startsWith('failed')) ? 1 : 0;
}
