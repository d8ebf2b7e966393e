import { describe, expect, it } from 'vitest';
import type { CustomerEvent } from '../../engine/index.js';
import { readRecentEvent, recentEventEntry } from '../../engine/store/recent-events.js';

describe('the recent-events list entry', () => {
  const track: CustomerEvent = {
    v: 1,
    kind: 'track',
    id: 'm-1',
    customerId: 'ada',
    name: 'Signed Up',
    properties: {},
    timestamp: 1_700_000_000_000,
  };

  it('leaves out the customer and empty properties, and reads back the same event', () => {
    const entry = recentEventEntry(track);
    expect(JSON.parse(entry)).toEqual({
      v: 1,
      kind: 'track',
      id: 'm-1',
      name: 'Signed Up',
      timestamp: 1_700_000_000_000,
    });
    expect(readRecentEvent(JSON.parse(entry), 'ada')).toEqual(track);
    const identify: CustomerEvent = {
      v: 1,
      kind: 'identify',
      id: 'm-2',
      customerId: 'ada',
      traits: { plan: 'pro' },
      timestamp: 1,
    };
    expect(readRecentEvent(JSON.parse(recentEventEntry(identify)), 'ada')).toEqual(identify);
  });

  it('reads an entry written before, with every field', () => {
    const withProperties = { ...track, properties: { plan: 'pro' } };
    expect(readRecentEvent({ ...withProperties }, 'ada')).toEqual(withProperties);
  });
});
