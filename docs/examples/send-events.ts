import { Redis } from 'ioredis';
import { CoreMessageCatalog, createEngine } from '../../engine/index.js';
import { welcome } from './welcome-journey.js';

export async function sendEvents(): Promise<void> {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
  const messages = CoreMessageCatalog.fromDirectory('templates');
  const engine = createEngine({ redis, journeys: [welcome], messages });
  engine.startWorkers();
  await engine.identify({ userId: 'ada', traits: { firstName: 'Ada' } });
  await engine.track({ userId: 'ada', event: 'Signed Up', properties: { plan: 'pro' }, messageId: 'm-123' });
  console.log(await engine.customer('ada')); // traits, instances (state, stage, status), events, messages
  await engine.close();
  redis.disconnect();
}
