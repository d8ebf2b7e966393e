import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Clock } from '../../clock.js';
import type { Engine } from '../../engine.js';
import { SuppressionReason, type SuppressedAddress } from '../../policy/suppression-list.js';

const Common = {
  channel: z.enum(['email', 'sms']),
  address: z.string().min(3).max(320).describe('the email address or phone number the provider reported'),
  source: z.string().min(1).max(200).default('delivery-events').describe('the provider that reported it'),
  timestamp: z.iso.datetime({ offset: true }).optional().describe('when it happened; default now'),
};

const DeliveryEvent = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('bounce'), bounceType: z.enum(['hard', 'soft']), ...Common }),
    z.object({ type: z.literal('complaint'), ...Common }),
  ])
  .superRefine((event, ctx) => {
    if (event.channel === 'email' && !z.email().safeParse(event.address).success)
      ctx.addIssue({
        code: 'custom',
        path: ['address'],
        message: 'an email address, as the channel is email',
      });
  });

/**
 * Bounces and complaints reported by a provider (or a relay of its webhooks): a hard bounce or a
 * complaint suppresses the address on every channel's next send; a soft bounce is acknowledged
 * and changes nothing, since the provider retries it and reports a hard bounce if it persists.
 */
export const deliveryEventRoutes: FastifyPluginAsyncZod<{ engine: Engine; clock: Clock }> = async (
  app,
  { engine, clock },
) => {
  app.post(
    '/v1/delivery-events',
    {
      schema: {
        tags: ['consent'],
        summary: 'Report a bounce or complaint; hard bounces and complaints suppress the address',
        body: DeliveryEvent,
        response: { 200: z.object({ suppressed: z.boolean(), reason: SuppressionReason.optional() }) },
      },
    },
    async (request) => {
      const event = request.body;
      if (event.type === 'bounce' && event.bounceType === 'soft') return { suppressed: false };
      const reason: SuppressionReason = event.type === 'complaint' ? 'complaint' : 'hard-bounce';
      const address: SuppressedAddress =
        event.channel === 'email'
          ? { kind: 'email', value: event.address }
          : { kind: 'phone', value: event.address };
      const at = event.timestamp === undefined ? clock.now() : Date.parse(event.timestamp);
      await engine.suppressions.add(address, { reason, at, source: event.source });
      return { suppressed: true, reason };
    },
  );
};
