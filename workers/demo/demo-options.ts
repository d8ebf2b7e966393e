// The command line of `npm run demo`, and the key prefix the run gets.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { CliUsageError, decimalNumber } from '../../engine/index.js';

export const DEMO_USAGE = `usage: npm run demo -- [--customers 300] [--time-scale 86400] [--seed 7] [--days 365] [--help]

Starts the engine with time sped up, drives simulated shoppers through the journeys over the
HTTP API and prints the funnel, the messages per channel and the goal conversion rate.
  --customers   shoppers to simulate (1-100000)
  --time-scale  journey time runs this many times faster (86400: a day lasts a second)
  --seed        the same seed gives the same shoppers
  --days        journey days to run at most before reporting what is left
  --help        this text`;

const Options = z.object({
  customers: decimalNumber(z.number().int().min(1).max(100_000)).default(300),
  'time-scale': decimalNumber(z.number().min(1).max(1e9)).default(86_400),
  seed: decimalNumber(z.number().int()).default(7),
  /**
   * Journey days to run at most, a guard against a run that never settles. The lifecycle's last
   * step is 37 days after sign-up, but at a high --time-scale the workers fall behind journey
   * time (1000 shoppers at 400000 settle past day 40, later on a busy machine), so it is generous.
   */
  days: decimalNumber(z.number().min(1).max(3650)).default(365),
});

export type DemoOptions = z.infer<typeof Options>;

/**
 * Reads the demo's arguments; `undefined` for `--help`. A bad one is a usage error naming it,
 * not a stack trace.
 */
export function parseDemoOptions(args: readonly string[]): DemoOptions | undefined {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        customers: { type: 'string' },
        'time-scale': { type: 'string' },
        seed: { type: 'string' },
        days: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new CliUsageError(`${(error as Error).message}\n\n${DEMO_USAGE}`);
  }
  if (values.help) return undefined;
  const parsed = Options.safeParse(values);
  if (parsed.success) return parsed.data;
  // A number not written in plain decimals is named as decimalNumber says, as the environment's are.
  const problems = parsed.error.issues.map((issue) => `--${issue.path.join('.')}: ${issue.message}`);
  throw new CliUsageError(`${problems.join('; ')}\n\n${DEMO_USAGE}`);
}

/** Redis allows more, but the engine's REDIS_PREFIX is at most 40 characters. */
const MAX_PREFIX = 40;

/**
 * The demo's own key prefix, which it deletes at the end: under the REDIS_PREFIX of the
 * environment, never that prefix itself, so a demo run beside an engine of that prefix leaves
 * the engine's customers, journeys and secrets alone.
 */
export function demoPrefix(environmentPrefix: string | undefined, suffix: string): string {
  const own = `-demo-${suffix}`;
  return `${(environmentPrefix || 'chorus').slice(0, MAX_PREFIX - own.length)}${own}`;
}
