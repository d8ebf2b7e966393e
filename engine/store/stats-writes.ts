import { isCluster, type RedisConnection } from '../redis/connection.js';
import { LuaScript } from './lua-script.js';

/** What the statistics (journey counts, daily counts, the conversion log, send counts) queue up. */
export interface StatsWriter {
  /** Adds each field's increment to the hash, then (when given) sets its TTL. */
  hincrbyAll(key: string, increments: ReadonlyMap<string, number>, expireSeconds?: number): unknown;
  zadd(key: string, mode: 'NX', score: number, member: string): unknown;
  zremrangebyscore(key: string, min: string, max: number): unknown;
}

/** One statistics write, held until it is applied. */
type StatsWrite =
  | { op: 'hincrbyAll'; key: string; increments: Array<[string, number]>; expireSeconds: number }
  | { op: 'zadd'; key: string; score: number; member: string }
  | { op: 'zremrangebyscore'; key: string; min: string; max: number }
  | { op: 'zrem'; key: string; member: string };

/**
 * Lua: `applyStatsWrites(firstKey, firstArg)` applies the writes of {@link StatsWrites.scriptArgs}
 * found from `KEYS[firstKey]` and `ARGV[firstArg]` on. Each runs through `pcall`: a counter that
 * cannot be written (a key of the wrong type) must not fail the step that counted it after the
 * step's own writes are done. Returns the first error's text, or `''`.
 */
export const APPLY_STATS_WRITES = `
local function applyStatsWrites(k, a)
  local failed = ''
  local function check(reply)
    if failed == '' and type(reply) == 'table' and reply.err then failed = reply.err end
  end
  while a <= #ARGV do
    local op, key = ARGV[a], KEYS[k]
    k = k + 1
    if op == 'H' then
      local count = tonumber(ARGV[a + 2])
      for i = a + 3, a + 2 + 2 * count, 2 do check(redis.pcall('HINCRBY', key, ARGV[i], ARGV[i + 1])) end
      if tonumber(ARGV[a + 1]) > 0 then check(redis.pcall('EXPIRE', key, ARGV[a + 1])) end
      a = a + 3 + 2 * count
    elseif op == 'Z' then
      check(redis.pcall('ZADD', key, 'NX', ARGV[a + 1], ARGV[a + 2]))
      a = a + 3
    elseif op == 'X' then
      check(redis.pcall('ZREM', key, ARGV[a + 1]))
      a = a + 2
    else
      check(redis.pcall('ZREMRANGEBYSCORE', key, ARGV[a + 1], ARGV[a + 2]))
      a = a + 3
    end
  end
  return failed
end
`;

/** KEYS and ARGV: the writes of one key. Returns the first error's text, or ''. */
const applyWrites = new LuaScript(`${APPLY_STATS_WRITES}\nreturn applyStatsWrites(1, 1)`);

/** The keys and arguments {@link APPLY_STATS_WRITES} reads for `writes`. */
function encode(writes: readonly StatsWrite[]): { keys: string[]; args: Array<string | number> } {
  const keys: string[] = [];
  const args: Array<string | number> = [];
  for (const write of writes) {
    keys.push(write.key);
    if (write.op === 'hincrbyAll') {
      args.push('H', write.expireSeconds, write.increments.length);
      for (const [field, by] of write.increments) args.push(field, by);
    } else if (write.op === 'zadd') args.push('Z', write.score, write.member);
    else if (write.op === 'zrem') args.push('X', write.member);
    else args.push('R', write.min, write.max);
  }
  return { keys, args };
}

/**
 * Statistics writes (counters, the conversion log) collected while a step or a send is decided,
 * then applied in one of two ways:
 *
 * - **inside the script that records what they count** (the step's commit, the send's outcome),
 *   on a single Redis: atomic with it, so a process that dies in between cannot miss them, and no
 *   round trip of their own;
 * - **issued right after it** ({@link issue}), on a Redis Cluster, where the counters live in
 *   other slots than the customer's keys and no script may span two slots; also how writes that
 *   count nothing else (erasure's count corrections) are applied.
 *
 * {@link ridesInScripts} says which one a connection takes. A hash's increments are one write,
 * whatever their number: a step that enters or leaves a journey moves half a dozen counters of
 * it (state, stage, funnel, exit), and a command each cost the worker as much CPU as the step's
 * transition. Zero increments are left out.
 */
export class StatsWrites implements StatsWriter {
  readonly #writes: StatsWrite[] = [];

  get length(): number {
    return this.#writes.length;
  }

  hincrbyAll(key: string, increments: ReadonlyMap<string, number>, expireSeconds = 0): void {
    const moved = [...increments].filter(([, by]) => by !== 0);
    if (moved.length > 0) this.#writes.push({ op: 'hincrbyAll', key, increments: moved, expireSeconds });
  }

  zadd(key: string, _mode: 'NX', score: number, member: string): void {
    this.#writes.push({ op: 'zadd', key, score, member });
  }

  zremrangebyscore(key: string, min: string, max: number): void {
    this.#writes.push({ op: 'zremrangebyscore', key, min, max });
  }

  /** Not a statistic: the phone index (phone-index.ts) rides along, as it changes with a step too. */
  zrem(key: string, member: string): void {
    this.#writes.push({ op: 'zrem', key, member });
  }

  /**
   * Issues the writes all at once, one script each, so on a Redis Cluster each goes to its key's
   * node; rejects with the first error once every write has been answered (the others are
   * applied). Like a pipeline, not a transaction; unlike one, ioredis copies no scripts for it
   * (a `redis.pipeline()` on a connection BullMQ defined its scripts on cost about 60 µs of CPU).
   */
  async issue(redis: RedisConnection): Promise<void> {
    const settled = await Promise.allSettled(
      this.#writes.map((write) => {
        const { keys, args } = encode([write]);
        return applyWrites.run(redis, keys, args);
      }),
    );
    for (const result of settled) {
      if (result.status === 'rejected') throw result.reason;
      if (result.value) throw new Error(String(result.value));
    }
  }

  /**
   * The keys and arguments {@link APPLY_STATS_WRITES} reads, to append after a script's own: one
   * key per write, and per write its code and operands (`H` ttl count field by ...; `Z` score
   * member; `X` member; `R` min max).
   */
  scriptArgs(): { keys: string[]; args: Array<string | number> } {
    return encode(this.#writes);
  }
}

/** Whether statistics writes go inside the scripts that record what they count (not on a Cluster). */
export function ridesInScripts(redis: RedisConnection): boolean {
  return !isCluster(redis);
}
