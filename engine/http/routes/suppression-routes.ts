import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Engine } from '../../engine.js';
import {
  SUPPRESSED_KIND,
  SuppressionEntry,
  SuppressionReason,
  type SuppressedAddress,
} from '../../policy/suppression-list.js';

const PLUS_LOST =
  'holds a space where a `+` was probably sent as it is (in a query string a `+` stands for a space): send it as %2B';

const Address = {
  channel: z.enum(['email', 'sms', 'push']),
  // FCM registration tokens run to about 160 characters, APNs-derived ones longer.
  address: z.string().min(3).max(4096),
};

/**
 * A space inside an email address, or before a phone number's digits, is where a `+` sent
 * unencoded was read (jane+news@…, +1555…): the lookup would find nothing and the lift would
 * lift nothing, where the address is suppressed.
 */
function refusePlusLost({ channel, address }: { channel: string; address: string }, ctx: z.RefinementCtx) {
  const lost = channel === 'email' ? /\s/.test(address.trim()) : channel === 'sms' && /^\s+\d/.test(address);
  if (lost) ctx.addIssue({ code: 'custom', path: ['address'], message: PLUS_LOST });
}

const Query = z.object(Address).superRefine(refusePlusLost);
const LiftQuery = z.object({ ...Address, reason: SuppressionReason.optional() }).superRefine(refusePlusLost);

const addressOf = (query: z.infer<typeof Query>): SuppressedAddress => ({
  kind: SUPPRESSED_KIND[query.channel],
  value: query.address,
});

/**
 * Looking up and lifting suppressions, for support staff: a bounce reported by mistake, or an
 * unsubscribe the customer took back some other way than the consent API (which lifts it itself,
 * see resubscribe.ts). The address is a query parameter
 * because emails and phone numbers hold `@` and `+`.
 */
export const suppressionRoutes: FastifyPluginAsyncZod<{ engine: Engine }> = async (app, { engine }) => {
  app.get(
    '/v1/suppressions',
    {
      schema: {
        tags: ['consent'],
        summary: 'Why an address is suppressed (empty: it is not)',
        querystring: Query,
        response: { 200: z.object({ suppressions: z.array(SuppressionEntry) }) },
      },
    },
    async (request) => ({ suppressions: await engine.suppressions.check(addressOf(request.query)) }),
  );

  app.delete(
    '/v1/suppressions',
    {
      schema: {
        tags: ['consent'],
        summary: 'Lift the suppression of an address, for one reason or all',
        querystring: LiftQuery,
        response: { 200: z.object({ lifted: z.number() }) },
      },
    },
    async (request) => ({
      lifted: await engine.suppressions.remove(addressOf(request.query), request.query.reason),
    }),
  );
};
