import type { Clock } from '../clock.js';
import type { JourneyCatalog } from '../journey/journey-catalog.js';
import type { Logger } from '../logger.js';
import type { CustomerStore, LoadedCustomer } from '../store/customer-store.js';
import { applyEvent } from './apply-event.js';
import type { Command, Note } from './command.js';
import type { CommandExecutor } from './command-executor.js';
import type { InstanceRecord } from './instance-record.js';

export interface DrainDependencies {
  store: CustomerStore;
  catalog: JourneyCatalog;
  executor: CommandExecutor;
  clock: Clock;
  logger: Logger;
  /** Called with what each applied event did, for metrics. */
  onNotes?: (customerId: string, notes: readonly Note[]) => void;
}

/**
 * Applies a customer's waiting events in arrival order, holding the customer's lease so no
 * other job applies events for them at the same time. Returns `busy` when another job holds the
 * lease: that job will see the events too, because it only lets go of an empty inbox.
 */
export async function drainCustomer(
  deps: DrainDependencies,
  customerId: string,
  token: string,
): Promise<'drained' | 'busy'> {
  const { store } = deps;
  let loaded = await store.acquire(customerId, token);
  if (!loaded) return 'busy';
  for (;;) {
    // Commands committed by a run that died before carrying them out come first.
    if (loaded.outbox.length > 0) {
      await deps.executor.run(loaded.outbox);
      if (await store.finish(customerId, token)) return 'drained';
    } else if (loaded.inbox.length === 0) {
      if (await store.finish(customerId, token)) return 'drained';
    } else if (await applyBatch(deps, customerId, token, loaded)) {
      return 'drained';
    }
    loaded = await store.acquire(customerId, token);
    if (!loaded) return 'busy';
  }
}

/** Applies the loaded inbox head, commits, and carries out the commands. Returns whether the lease was released. */
async function applyBatch(
  deps: DrainDependencies,
  customerId: string,
  token: string,
  loaded: LoadedCustomer,
): Promise<boolean> {
  const now = deps.clock.now();
  let customer = loaded.customer;
  const changed = new Map<string, InstanceRecord>();
  const commands: Command[] = [];
  const dead: Array<{ event: string; reason: string; at: number }> = [];
  let profileChanged = false;
  for (const entry of loaded.inbox) {
    if (!entry.ok) {
      dead.push({ event: entry.raw, reason: entry.reason, at: now });
      continue;
    }
    try {
      const result = applyEvent(customer, entry.event, now, deps.catalog);
      customer = result.customer;
      profileChanged ||= result.profileChanged;
      for (const id of result.changed) changed.set(id, customer.instances.get(id)!);
      commands.push(...result.commands);
      for (const note of result.notes) {
        if (note.kind === 'rejected' || note.kind === 'failed') {
          dead.push({ event: JSON.stringify(entry.event), reason: note.reason, at: now });
          deps.logger.warn({ customerId, eventId: entry.event.id, note }, 'event not applied');
        }
      }
      deps.onNotes?.(customerId, result.notes);
    } catch (error) {
      // A journey version no longer loaded, or a bug in a machine: keep the event, move on.
      dead.push({ event: JSON.stringify(entry.event), reason: (error as Error).message, at: now });
      deps.logger.error({ customerId, eventId: entry.event.id, err: error }, 'event could not be applied');
    }
  }
  const { released } = await deps.store.commit(customerId, token, {
    expectedRev: loaded.rev,
    consumed: loaded.inbox.length,
    ...(profileChanged ? { profile: customer.profile } : {}),
    instances: [...changed.values()],
    outbox: commands,
    dead,
  });
  if (commands.length === 0) return released;
  await deps.executor.run(commands);
  return deps.store.finish(customerId, token);
}
