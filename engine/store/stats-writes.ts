import { isCluster, type RedisConnection } from '../redis/connection.js';
import { CommandBatch, type StatsWriter } from './command-batch.js';

/** One statistics write, held until it is applied: inside a script, or as a command. */
type StatsWrite =
  | { op: 'hincrbyAll'; key: string; increments: Array<[string, number]>; expireSeconds: number }
  | { op: 'zadd'; key: string; score: number; member: string }
  | { op: 'zremrangebyscore'; key: string; min: string; max: number };

/**
 * Statistics writes (counters, the conversion log) collected while a step or a send is decided,
 * then applied in one of two ways:
 *
 * - **inside the script that records what they count** (the step's commit, the send's outcome),
 *   on a single Redis: atomic with it, so a process that dies in between cannot miss them, and no
 *   round trip of their own;
 * - **as commands right after it**, on a Redis Cluster, where the counters live in other slots
 *   than the customer's keys and no script may span two slots.
 *
 * {@link ridesInScripts} says which one a connection takes.
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

  /** Issues the writes as commands, each to its key's node; rejects with the first error. */
  async issue(redis: RedisConnection): Promise<void> {
    if (this.#writes.length === 0) return;
    const batch = new CommandBatch(redis);
    for (const write of this.#writes) {
      if (write.op === 'hincrbyAll')
        batch.hincrbyAll(write.key, new Map(write.increments), write.expireSeconds);
      else if (write.op === 'zadd') batch.zadd(write.key, 'NX', write.score, write.member);
      else batch.zremrangebyscore(write.key, write.min, write.max);
    }
    await batch.done();
  }

  /**
   * The keys and arguments {@link APPLY_STATS_WRITES} reads, to append after a script's own: one
   * key per write, and per write its code and operands (`H` ttl count field by ...; `Z` score
   * member; `R` min max).
   */
  scriptArgs(): { keys: string[]; args: Array<string | number> } {
    const keys: string[] = [];
    const args: Array<string | number> = [];
    for (const write of this.#writes) {
      keys.push(write.key);
      if (write.op === 'hincrbyAll') {
        args.push('H', write.expireSeconds, write.increments.length);
        for (const [field, by] of write.increments) args.push(field, by);
      } else if (write.op === 'zadd') args.push('Z', write.score, write.member);
      else args.push('R', write.min, write.max);
    }
    return { keys, args };
  }
}

/** Whether statistics writes go inside the scripts that record what they count (not on a Cluster). */
export function ridesInScripts(redis: RedisConnection): boolean {
  return !isCluster(redis);
}

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
    else
      check(redis.pcall('ZREMRANGEBYSCORE', key, ARGV[a + 1], ARGV[a + 2]))
      a = a + 3
    end
  end
  return failed
end
`;
