import { z } from 'zod';
import { ChorusError } from './errors.js';

const Roles = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((role) => role.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.enum(['journeys', 'deliveries'])).min(1));

/** Every environment variable the engine reads, parsed once at start-up. */
export const EnvConfig = z.object({
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  /** Prefix of every Redis key; one per environment sharing a Redis. */
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,40}$/, 'letters, digits, _ and -')
    .default('chorus'),
  /** Journey time runs this many times faster than real time: 86400 makes a day last a second. */
  TIME_SCALE: z.coerce.number().positive().max(1e9).default(1),
  JOURNEY_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(50),
  DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(20),
  /** Which workers a worker process runs: `journeys`, `deliveries`, or both. */
  WORKER_ROLES: Roles.default(['journeys', 'deliveries']),
  /** How long SIGTERM waits for active jobs before leaving them to other workers. */
  /**
   * How long a job's lock and a customer's lease last without renewal. A worker that dies is
   * noticed after about this long, and its jobs run elsewhere.
   */
  LOCK_DURATION_MS: z.coerce.number().int().min(500).max(600_000).default(30_000),
  /** How often one worker sweeps for customers whose events wait with no job to apply them. */
  SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(60_000),
  SHUTDOWN_DEADLINE_MS: z.coerce.number().int().min(0).default(10_000),
  JOURNEYS_DIR: z.string().min(1).default('journeys'),
  TEMPLATES_DIR: z.string().min(1).default('templates'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type EnvConfig = z.infer<typeof EnvConfig>;

export class ConfigError extends ChorusError {
  constructor(readonly variables: ReadonlyArray<{ name: string; message: string }>) {
    super(
      'CHORUS_CONFIG_INVALID',
      `Invalid configuration: ${variables.map((v) => `${v.name}: ${v.message}`).join('; ')}. ` +
        'To fix: correct or unset the named environment variables (see the README, Configuration).',
    );
  }
}

/** Parses the environment once; a bad value stops start-up with the variable's name. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Readonly<EnvConfig> {
  const known = Object.fromEntries(Object.keys(EnvConfig.shape).map((key) => [key, env[key]]));
  const parsed = EnvConfig.safeParse(known);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({ name: String(issue.path[0]), message: issue.message })),
    );
  }
  return Object.freeze(parsed.data);
}
