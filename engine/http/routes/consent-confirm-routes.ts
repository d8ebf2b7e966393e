import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Clock } from '../../clock.js';
import type { Engine } from '../../engine.js';
import { verifyConsentToken } from '../../policy/consent-token.js';
import { verifyWithAny } from '../../signed-token.js';
import { HttpError } from '../http-errors.js';
import { htmlPage, ignoreBodies, privateLinkPages, refusedLinksAsPages, wantsHtml } from './html-page.js';

const Query = z.object({ token: z.string().min(1).max(2000) });

const invalid = () =>
  new HttpError(
    400,
    'CHORUS_CONSENT_TOKEN_INVALID',
    'This confirmation link is invalid or has expired. To fix: sign up again to get a new link.',
  );

/**
 * Double opt-in confirmation. As with unsubscribe links, a GET only shows a button (link
 * scanners follow GETs) and the POST confirms; the signed, expiring token is the credential.
 */
export const consentConfirmRoutes: FastifyPluginAsyncZod<{
  engine: Engine;
  /** UNSUBSCRIBE_SECRET, then the secrets it had before (UNSUBSCRIBE_PREVIOUS_SECRETS). */
  secrets: readonly string[];
  clock: Clock;
}> = async (app, { engine, secrets, clock }) => {
  const valid = (token: string) =>
    verifyWithAny(secrets, (secret) => verifyConsentToken(secret, token, clock.now())) !== undefined;
  refusedLinksAsPages(app);
  privateLinkPages(app);
  // The page's form has no named field: a browser posts it form-encoded and empty.
  ignoreBodies(app);

  app.get(
    '/v1/consent/confirm',
    {
      schema: {
        tags: ['consent'],
        summary: 'Confirmation page of a double opt-in link',
        querystring: Query,
        security: [],
      },
    },
    async (request, reply) => {
      if (!valid(request.query.token)) throw invalid();
      // Relative to the page, as the unsubscribe page's: PUBLIC_URL may put the API under a path.
      const action = `confirm?token=${encodeURIComponent(request.query.token)}`;
      return reply
        .type('text/html; charset=utf-8')
        .send(
          htmlPage(
            'Confirm your subscription',
            `<p>Confirm that you want to receive our emails.</p><form method="post" action="${action.replace(/"/g, '&quot;')}">` +
              `<button type="submit">Confirm</button></form>`,
          ),
        );
    },
  );

  app.post(
    '/v1/consent/confirm',
    {
      schema: {
        tags: ['consent'],
        summary: 'Confirm a double opt-in (the signed token is the credential)',
        querystring: Query,
        security: [],
      },
    },
    async (request, reply) => {
      const record = await engine.consent.confirm(request.query.token, clock.now());
      if (record === undefined && !valid(request.query.token)) throw invalid();
      const confirmed = record?.state === 'granted';
      if (wantsHtml(request.headers))
        return reply
          .type('text/html; charset=utf-8')
          .send(
            htmlPage(
              confirmed ? 'Subscribed' : 'Not confirmed',
              confirmed
                ? '<p>Thank you: your subscription is confirmed.</p>'
                : record?.state === 'pending'
                  ? '<p>This link was replaced by a newer one: please use the link in the latest email we sent you.</p>'
                  : '<p>There is nothing to confirm: the request was withdrawn.</p>',
            ),
          );
      return reply.send({ confirmed, ...(record ? { record } : {}) });
    },
  );
};
