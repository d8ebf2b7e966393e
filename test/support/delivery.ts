import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createChannelAdapters,
  loadTemplates,
  MessageRenderer,
  type DeliveryOptions,
  type Journey,
  type RedisConnection,
} from '../../engine/index.js';

/**
 * Real delivery for tests: the project's templates, checked against the journeys, the real
 * renderer, and outbox adapters writing into a temporary folder (plus the Redis in-app inbox).
 */
export function testDelivery(redis: RedisConnection, prefix: string, journeys: readonly Journey[] = []) {
  const outboxDir = mkdtempSync(join(tmpdir(), 'chorus-outbox-'));
  const templates = loadTemplates('templates', { journeys });
  const delivery: DeliveryOptions = {
    renderer: new MessageRenderer(templates),
    messages: { get: (id) => templates.message(id) },
    adapters: createChannelAdapters({ redis, prefix, outboxDir, mailFrom: 'Chorus Tea <hello@chorus.test>' }),
    unsubscribe: { baseUrl: 'https://chorus.test', secret: 'test-secret-of-sixteen' },
  };
  return {
    delivery,
    templates,
    messages: { has: (id: string) => templates.message(id) !== undefined },
    outboxDir,
    cleanup: () => rmSync(outboxDir, { recursive: true, force: true }),
  };
}
