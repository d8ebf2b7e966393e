import { createHash } from 'node:crypto';
import type { RedisConnection } from '../redis/connection.js';

/**
 * A Lua script run by its SHA, loaded on first use. Each script touches the keys of a single
 * customer only, all sharing one hash tag, so it runs unchanged on a Redis Cluster; on a single
 * Redis the scripts that commit a step or record an outcome also write their counters, which
 * live elsewhere (see stats-writes.ts).
 */
export class LuaScript {
  readonly #sha: string;
  constructor(readonly source: string) {
    this.#sha = createHash('sha1').update(source).digest('hex');
  }

  async run(
    redis: RedisConnection,
    keys: readonly string[],
    args: ReadonlyArray<string | number>,
  ): Promise<unknown> {
    try {
      return await redis.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
