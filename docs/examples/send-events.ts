import { Redis } from 'ioredis';
import { createChannelAdapters, createEngine, loadTemplates, MessageRenderer } from '../../engine/index.js';
import { welcome } from './welcome-journey.js';

export async function sendEvents(): Promise<void> {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
  // Templates are checked against the journeys that send them; a problem stops here, with its fix.
  const templates = loadTemplates('templates', { journeys: [welcome] });
  const engine = createEngine({
    redis,
    journeys: [welcome],
    messages: templates.catalog,
    delivery: {
      renderer: new MessageRenderer(templates),
      messages: templates.catalog,
      // No SMTP_URL or providers here: email, SMS and push are written to outbox/.
      adapters: createChannelAdapters({
        redis,
        prefix: 'chorus',
        outboxDir: 'outbox',
        mailFrom: 'Chorus Tea <hello@chorus.local>',
      }),
      unsubscribe: {
        baseUrl: 'https://api.example.com',
        secret: process.env.UNSUBSCRIBE_SECRET ?? 'change-me-change-me',
      },
    },
  });
  engine.startWorkers();
  await engine.identify({ userId: 'ada', traits: { firstName: 'Ada', email: 'ada@example.com' } });
  await engine.track({ userId: 'ada', event: 'Signed Up', properties: { plan: 'pro' }, messageId: 'm-123' });
  // The calls return once the events are stored; a worker applies them a moment later.
  console.log(await engine.customer('ada')); // profile, instances, events, messages, pendingEvents
  await engine.close();
  redis.disconnect();
}
