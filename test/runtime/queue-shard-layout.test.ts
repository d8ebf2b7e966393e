import calculateSlot from 'cluster-key-slot';
import { describe, expect, it } from 'vitest';
import { shardHashTags, shardLimiter, shardOf } from '../../engine/runtime/queue-shards.js';

const SLOTS = 16_384;

describe('queue shard layout', () => {
  it('keeps the prefix as shard 0 and places the others round the slot space by the golden ratio', () => {
    const golden = (Math.sqrt(5) - 1) / 2;
    for (const [prefix, count] of [
      ['chorus', 3],
      ['chorus', 8],
      ['acme-prod', 5],
    ] as const) {
      const tags = shardHashTags(prefix, count);
      expect(tags[0]).toBe(prefix);
      expect(new Set(tags).size).toBe(count);
      expect(shardHashTags(prefix, count)).toEqual(tags);
      const first = calculateSlot(prefix);
      for (const [shard, tag] of tags.entries()) {
        expect(tag.startsWith(prefix)).toBe(true);
        const past = (calculateSlot(tag) - first - ((shard * golden) % 1) * SLOTS + 2 * SLOTS) % SLOTS;
        // Within a few slots past its place.
        expect(past, `${prefix} shard ${shard}`).toBeLessThan(16);
      }
    }
  });

  it('keeps every shard where it was when the count grows, so the jobs waiting in it are still read', () => {
    const two = shardHashTags('chorus', 2);
    expect(shardHashTags('chorus', 3).slice(0, 2)).toEqual(two);
    expect(shardHashTags('chorus', 8).slice(0, 3)).toEqual(shardHashTags('chorus', 3));
  });

  it('puts each shard of `chorus` in its own third of the slots, as a three-master cluster divides them', () => {
    const thirds = shardHashTags('chorus', 3).map((tag) => Math.floor(calculateSlot(tag) / (SLOTS / 3)));
    expect(new Set(thirds).size).toBe(3);
  });

  it("sends a customer's jobs to one shard, and spreads customers over all of them", () => {
    const perShard = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) perShard[shardOf(`customer-${i}`, 4)]! += 1;
    for (const count of perShard) expect(count).toBeGreaterThan(800);
    // Braces in ids are not hash tags here: one tenant's customers spread too.
    const tenant = new Set(Array.from({ length: 40 }, (_, i) => shardOf(`{acme}-${i}`, 4)));
    expect(tenant.size).toBe(4);
    expect(shardOf('ada', 4)).toBe(shardOf('ada', 4));
    expect(shardOf('ada', 1)).toBe(0);
  });

  it("splits a channel's rate limit so that the shards together keep to it", () => {
    expect(shardLimiter({ max: 10, duration: 1000 }, 1)).toEqual({ max: 10, duration: 1000 });
    expect(shardLimiter({ max: 12, duration: 1000 }, 3)).toEqual({ max: 4, duration: 1000 });
    expect(shardLimiter({ max: 10, duration: 1000 }, 3)).toEqual({ max: 3, duration: 900 });
    // Fewer sends a window than shards: each shard gets one in a longer window.
    expect(shardLimiter({ max: 1, duration: 1000 }, 3)).toEqual({ max: 1, duration: 3000 });
  });
});
