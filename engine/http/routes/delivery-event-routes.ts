import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Clock } from '../../clock.js';
import { isPlainEmailAddress } from '../../delivery/address.js';
import { Channel } from '../../journey/journey-schema.js';
import type { Engine } from '../../engine.js';
import { Timestamp, toEpochMs } from '../../ingest/ingest-schema.js';
import { MAX_OP_ID_LENGTH } from '../../runtime/ids.js';
import { SUPPRESSED_KIND, SuppressionReason, type SuppressedAddress } from '../../policy/suppression-list.js';
import { recordDeliveryReport } from '../../tracking/delivery-report.js';

const Common = {
  channel: z.enum(['email', 'sms', 'push']),
  address: z
    .string()
    .min(3)
    .max(4096)
    .describe('the email address, phone number or push token the provider reported'),
  source: z.string().min(1).max(200).default('delivery-events').describe('the provider that reported it'),
  timestamp: Timestamp.describe(
    'when it happened, an ISO 8601 date-time with offset or epoch ms, as ingest takes it; default now',
  ),
};

/** Which send it was about, when the provider echoes the ids Chorus gave it: counted in reports. */
const Send = {
  customerId: z.string().min(1).max(256).optional(),
  opId: z
    .string()
    .min(1)
    .max(MAX_OP_ID_LENGTH)
    .optional()
    .describe("the send's operation id: the `X-Chorus-Op` header of its email"),
};

const DeliveryEvent = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('bounce'), bounceType: z.enum(['hard', 'soft']), ...Common, ...Send }),
    // Mailbox providers and carriers take spam reports; push services have none to relay.
    z.object({ type: z.literal('complaint'), ...Common, channel: z.enum(['email', 'sms']), ...Send }),
    z.object({
      type: z.literal('delivered'),
      channel: Channel,
      timestamp: Common.timestamp,
      customerId: z.string().min(1).max(256),
      opId: z.string().min(1).max(MAX_OP_ID_LENGTH),
    }),
  ])
  .superRefine((event, ctx) => {
    if ((event.customerId === undefined) !== (event.opId === undefined))
      ctx.addIssue({ code: 'custom', path: ['opId'], message: 'customerId and opId go together' });
    if (event.type === 'delivered') return;
    // Every address the engine sends to can be reported: the check email sends and ingest use,
    // not a narrower one (an `&` or `=` in the local part, a Unicode mailbox or domain).
    if (event.channel === 'email' && !isPlainEmailAddress(event.address.trim()))
      ctx.addIssue({
        code: 'custom',
        path: ['address'],
        message: 'an email address, as the channel is email',
      });
    if (event.channel !== 'push' && event.address.length > 320)
      ctx.addIssue({
        code: 'custom',
        path: ['address'],
        message: `at most 320 characters for ${event.channel}; only push tokens are longer`,
      });
  });

/**
 * Deliveries, bounces and complaints reported by a provider (or a relay of its webhooks). With the
 * send's `customerId` and `opId` the outcome is recorded on that message and counted in the
 * journey's report. A hard bounce suppresses the address for every later message (a push token's:
 * the app is gone), a complaint for marketing (transactional messages still go); a soft bounce is acknowledged
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
        response: {
          200: z.object({
            suppressed: z.boolean(),
            reason: SuppressionReason.optional(),
            recorded: z
              .enum(['first', 'repeat', 'unknown-send'])
              .optional()
              .describe('for a report naming its send'),
          }),
        },
      },
    },
    async (request) => {
      const event = request.body;
      const at = toEpochMs(event.timestamp, clock.now());
      // The send's outcome, for the journey report's delivery figures.
      const recorded =
        event.customerId !== undefined &&
        event.opId !== undefined &&
        !(event.type === 'bounce' && event.bounceType === 'soft')
          ? (
              await recordDeliveryReport(
                engine.store.redis,
                engine.prefix,
                {
                  customerId: event.customerId,
                  opId: event.opId,
                  status:
                    event.type === 'delivered'
                      ? 'delivered'
                      : event.type === 'bounce'
                        ? 'bounced'
                        : 'complained',
                  at,
                },
                { logger: request.log },
              )
            ).recorded
          : undefined;
      const extra = recorded === undefined ? {} : { recorded };
      if (event.type === 'delivered') return { suppressed: false, ...extra };
      if (event.type === 'bounce' && event.bounceType === 'soft') return { suppressed: false, ...extra };
      const reason: SuppressionReason = event.type === 'complaint' ? 'complaint' : 'hard-bounce';
      // A push token's hard bounce is the provider saying it is gone (the app was uninstalled).
      const kind = SUPPRESSED_KIND[event.channel];
      const address: SuppressedAddress = { kind, value: event.address };
      await engine.suppressions.add(address, { reason, at, source: event.source });
      return { suppressed: true, reason, ...extra };
    },
  );
};
