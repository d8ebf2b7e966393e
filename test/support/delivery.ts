import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createChannelAdapters,
  createEngine,
  loadTemplates,
  MessageRenderer,
  type DeliveryOptions,
  type Engine,
  type EngineOptions,
  type Journey,
  type RedisConnection,
} from '../../engine/index.js';

/** The sender of every test email. */
export const TEST_MAIL_FROM = 'Chorus Tea <hello@chorus.test>';

/** The project's templates, checked against `journeys`, and delivery through them without adapters. */
function projectTemplates(journeys: readonly Journey[]) {
  const templates = loadTemplates('templates', { journeys });
  return {
    templates,
    messages: { has: (id: string) => templates.message(id) !== undefined },
    delivery: {
      renderer: new MessageRenderer(templates),
      messages: { get: (id: string) => templates.message(id) },
      unsubscribe: { baseUrl: 'https://chorus.test', secret: 'test-secret-of-sixteen' },
    },
  };
}

/**
 * Real delivery for tests: the project's templates, checked against the journeys, the real
 * renderer, and outbox adapters writing into a temporary folder (plus the Redis in-app inbox).
 */
export function testDelivery(redis: RedisConnection, prefix: string, journeys: readonly Journey[] = []) {
  const outboxDir = mkdtempSync(join(tmpdir(), 'chorus-outbox-'));
  const { templates, messages, delivery: rendering } = projectTemplates(journeys);
  const delivery: DeliveryOptions = {
    ...rendering,
    adapters: createChannelAdapters({ redis, prefix, outboxDir, mailFrom: TEST_MAIL_FROM }),
  };
  return {
    delivery,
    templates,
    messages,
    outboxDir,
    cleanup: () => rmSync(outboxDir, { recursive: true, force: true }),
  };
}

/**
 * An engine on `journeys` under `ctx`'s prefix that sends through the project's templates with
 * the adapters `delivery` names (a real SMTP server's, a local HTTP server's) and the rest of
 * `delivery` on top; a send that fails retries after 20 to 100 ms. Its workers are not started.
 */
export function deliveryEngine(
  ctx: { redis: RedisConnection; prefix: string },
  journeys: readonly Journey[],
  delivery: Partial<DeliveryOptions> & Pick<DeliveryOptions, 'adapters'>,
  options: Partial<EngineOptions> = {},
): Engine {
  const { messages, delivery: rendering } = projectTemplates(journeys);
  return createEngine({
    redis: ctx.redis,
    prefix: ctx.prefix,
    journeys,
    messages,
    delivery: { ...rendering, retry: { baseMs: 20, maxMs: 100 }, ...delivery },
    ...options,
  });
}
