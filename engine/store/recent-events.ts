import type { CustomerEvent } from '../runtime/customer-event.js';

/** The events kept in the recent list: what a customer did (enter events are not kept). */
type RecentEvent = Extract<CustomerEvent, { kind: 'track' | 'identify' }>;

/**
 * The copy of an event kept in the customer's recent-events list, without what the list's key
 * already tells (the customer) and without empty `properties` / `traits`: a parked customer's
 * list is one of their keys, and a shorter entry takes a smaller allocation. Entries written
 * before kept every field; `readRecentEvent` reads both the same.
 */
export function recentEventEntry(event: CustomerEvent): string {
  const entry: Record<string, unknown> = { ...event };
  delete entry.customerId;
  for (const field of ['properties', 'traits'] as const) if (isEmptyObject(entry[field])) delete entry[field];
  return JSON.stringify(entry);
}

/** An entry of the recent-events list, read as JSON already (see readStoredObjects), as the event it copies. */
export function readRecentEvent(entry: Record<string, unknown>, customerId: string): RecentEvent {
  const empty = entry.kind === 'track' ? { properties: {} } : entry.kind === 'identify' ? { traits: {} } : {};
  return { customerId, ...empty, ...entry } as RecentEvent;
}

function isEmptyObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.keys(value).length === 0;
}
