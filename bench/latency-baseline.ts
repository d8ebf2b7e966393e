// One process of the latency benchmark's baseline, started by bench/latency-processes.ts:
//   api:    a bare Fastify route, POST /track → queue.add → 202
//   worker: a BullMQ worker sending the pre-rendered `nudge` email with pooled nodemailer
//           (TCP_NODELAY sockets, as the Chorus email adapter opens them)
// The same split as Chorus's `workers/api.ts` and `workers/worker.ts`.
// Env: REDIS_URL, BENCH_PREFIX, SINK_PORT, PORT (api), CONCURRENCY, MAX_CONNECTIONS and MAX_MESSAGES
// (worker).
import { Queue, Worker } from 'bullmq';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import nodemailer from 'nodemailer';
import { noDelaySmtpSocket } from '../engine/channels/smtp-socket.js';
import { loadTemplates } from '../engine/index.js';
import { notify } from '../test/fixtures/journeys/notify.js';
import { FROM, renderNudge } from './sends.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`bench/latency-baseline.ts needs ${name}`);
  return value;
};
const role = process.argv[2];
const redis = new Redis(env('REDIS_URL'), { maxRetriesPerRequest: null });
const prefix = `{${env('BENCH_PREFIX')}-raw}`;

async function api(): Promise<() => Promise<void>> {
  const queue = new Queue('sends', { connection: redis, prefix });
  const app = Fastify();
  app.post('/track', async (request, reply) => {
    await queue.add('send', request.body as object, { removeOnComplete: true });
    return reply.code(202).send({ ok: true });
  });
  app.get('/healthz', async () => ({ ok: true }));
  await app.listen({ port: Number(env('PORT')), host: '127.0.0.1' });
  return async () => {
    await app.close();
    await queue.close();
  };
}

async function worker(): Promise<() => Promise<void>> {
  const sinkPort = Number(env('SINK_PORT'));
  const email = renderNudge(loadTemplates('templates', { journeys: [notify] }), 'lat-0');
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: sinkPort,
    pool: true,
    maxConnections: Number(env('MAX_CONNECTIONS')),
    maxMessages: Number(env('MAX_MESSAGES')),
    secure: false,
    ignoreTLS: true,
    getSocket: noDelaySmtpSocket(30_000),
  });
  const sender = new Worker(
    'sends',
    async (job) => {
      const { userId } = job.data as { userId: string };
      await transport.sendMail({
        from: FROM,
        to: `${userId}@example.com`,
        subject: email.subject,
        html: email.html,
        text: email.text,
      });
    },
    { connection: redis, prefix, concurrency: Number(env('CONCURRENCY')) },
  );
  await sender.waitUntilReady();
  // The parent waits for this line before it starts sending.
  process.stdout.write('ready\n');
  return async () => {
    await sender.close();
    transport.close();
  };
}

if (role !== 'api' && role !== 'worker') throw new Error('usage: bench/latency-baseline.ts api|worker');
const close = role === 'api' ? await api() : await worker();
process.once('SIGTERM', () => {
  void close().finally(() => {
    redis.disconnect();
    process.exit(0);
  });
});
