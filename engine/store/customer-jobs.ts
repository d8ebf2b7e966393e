import type { RedisConnection } from '../redis/connection.js';
import { customerKeys } from './customer-keys.js';
import { LuaScript } from './lua-script.js';

/** Where a job of one customer lives: the journey queue (timers, drains) or every delivery queue (sends). */
export type CustomerJob = { queue: 'journeys'; jobId: string } | { queue: 'deliveries'; jobId: string };

// Jobs outlive their customer's other keys by at most the failed-job retention (7 days).
const INDEX_TTL_MS = 8 * 86_400_000;

/**
 * Lua: gives the index KEYS[k] at least `ttl` ms more, never less than it has: a send held back
 * for weeks (see heldSendIndex) keeps it that long, whatever a later step's send renews it to.
 */
export const KEEP_INDEX_FOR = `local function keepIndexFor(key, ttl)
  if redis.call('PTTL', key) < tonumber(ttl) then redis.call('PEXPIRE', key, ttl) end
end
`;

/** How the index stores one job: `t:<id>` a timer, `s:<id>` a send. */
export function jobIndexMember(job: CustomerJob): string {
  return `${job.queue === 'journeys' ? 't' : 's'}:${job.jobId}`;
}

/**
 * Adds job ids to the index and renews its TTL, in one command rather than two: it runs before
 * the adds of every step that sends.
 * KEYS: index. ARGV: TTL ms, member...
 */
const recordJobs = new LuaScript(`${KEEP_INDEX_FOR}
for i = 2, #ARGV do redis.call('SADD', KEYS[1], ARGV[i]) end
keepIndexFor(KEYS[1], ARGV[1])
`);

/**
 * Where a send held back until `untilMs` is named, and for how long (see noteOperation): an
 * erasure while it is held finds it in the index, however long its hold.
 */
export function heldSendIndex(
  prefix: string,
  customerId: string,
  opId: string,
  holdMs: number,
): { key: string; member: string; ttlMs: number } {
  return {
    key: customerKeys(prefix, customerId).jobs,
    member: jobIndexMember({ queue: 'deliveries', jobId: opId }),
    ttlMs: Math.max(0, holdMs) + INDEX_TTL_MS,
  };
}

/**
 * The ids of the send jobs made for each customer, so erasing a customer can remove every queued
 * send (and its copy of their data). Written before the jobs are added, so no send exists that
 * nothing names; an entry whose job is gone is harmless. Sends stay named here until the key
 * expires. Timers are named by their instance once committed, and found in the queue by their id
 * when a step died before its commit, so a customer who is only waiting has no index key at all;
 * a timer job that fails after its event may have been applied is named here again, and so is a
 * drain job that fails (it names the customer, and waits to retry or is kept failed).
 */
export class CustomerJobIndex {
  constructor(
    readonly redis: RedisConnection,
    readonly prefix: string,
  ) {}

  key(customerId: string): string {
    return customerKeys(this.prefix, customerId).jobs;
  }

  async record(customerId: string, jobs: readonly CustomerJob[]): Promise<void> {
    if (jobs.length === 0) return;
    await recordJobs.run(this.redis, [this.key(customerId)], [INDEX_TTL_MS, ...jobs.map(jobIndexMember)]);
  }

  async list(customerId: string): Promise<CustomerJob[]> {
    const members = await this.redis.smembers(this.key(customerId));
    return members.map((member) => ({
      queue: member.startsWith('t:') ? 'journeys' : 'deliveries',
      jobId: member.slice(2),
    }));
  }
}
