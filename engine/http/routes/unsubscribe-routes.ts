import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Clock } from '../../clock.js';
import { verifyUnsubscribeToken } from '../../delivery/unsubscribe-token.js';
import { verifyWithAny } from '../../signed-token.js';
import type { Engine } from '../../engine.js';
import { ONE_CLICK_UNSUBSCRIBE_SOURCE } from '../../policy/consent-record.js';
import { HttpError } from '../http-errors.js';
import { htmlPage, ignoreBodies, privateLinkPages, refusedLinksAsPages, wantsHtml } from './html-page.js';

export interface UnsubscribeRouteOptions {
  engine: Engine;
  /** UNSUBSCRIBE_SECRET, then the secrets it had before (UNSUBSCRIBE_PREVIOUS_SECRETS). */
  secrets: readonly string[];
  clock: Clock;
}

const Query = z.object({ token: z.string().min(1).max(2000) });

/**
 * One-click unsubscribe (RFC 8058). The mail client POSTs `List-Unsubscribe=One-Click` to the
 * URL from the header, with no cookie or session: the signed token is the only credential (it
 * expires only when `delivery.unsubscribe.ttlDays` says so). A GET (a person clicking the link,
 * or a link scanner) only shows a confirm button, so scanners cannot unsubscribe anyone.
 */
export const unsubscribeRoutes: FastifyPluginAsyncZod<UnsubscribeRouteOptions> = async (app, options) => {
  const { engine, secrets, clock } = options;
  // Mail clients send the one-click body as a form, multipart or encoded; it is fixed and not needed.
  ignoreBodies(app);

  function claimOf(token: string) {
    const now = clock.now();
    const claim = verifyWithAny(secrets, (secret) => verifyUnsubscribeToken(secret, token, now));
    if (!claim)
      throw new HttpError(
        400,
        'CHORUS_UNSUBSCRIBE_TOKEN_INVALID',
        'This unsubscribe link is invalid or has expired. To fix: use the link in a recent email.',
      );
    return claim;
  }

  refusedLinksAsPages(app);
  privateLinkPages(app);

  app.get(
    '/v1/unsubscribe',
    {
      schema: {
        tags: ['unsubscribe'],
        summary: 'Confirmation page for an unsubscribe link',
        querystring: Query,
        security: [],
      },
    },
    async (request, reply) => {
      claimOf(request.query.token);
      // Relative to the page, so the form posts back to where the link led, also when PUBLIC_URL
      // puts the API under a path (a proxy's /chorus/v1/…), which an absolute path would drop.
      const action = `unsubscribe?token=${encodeURIComponent(request.query.token)}`;
      return reply
        .type('text/html; charset=utf-8')
        .send(
          htmlPage(
            'Unsubscribe',
            `<p>Stop receiving marketing email from us?</p><form method="post" action="${action.replace(/"/g, '&quot;')}">` +
              `<input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
          ),
        );
    },
  );

  app.post(
    '/v1/unsubscribe',
    {
      schema: {
        tags: ['unsubscribe'],
        summary: 'One-click unsubscribe (RFC 8058): no cookie, the signed token is the credential',
        querystring: Query,
        security: [],
      },
    },
    async (request, reply) => {
      const claim = claimOf(request.query.token);
      const at = clock.now();
      // The token itself names the event, so a client's retry of the same click is one event.
      const id = `unsub-${createHash('sha256').update(request.query.token).digest('base64url')}`;
      // The customer's refusal holds whatever address they use later; the address they have now
      // is suppressed too, for every customer who shares it. Recorded only for a customer the
      // engine knows (one with a state, which every send's step wrote and only erasure deletes),
      // checked in the same atomic step as each write: a link from an erased customer's old email
      // gets nothing more from us already, and recording the refusal, or tracking its event, would
      // write the erased id back, also when the erasure ends while this runs.
      const written = await engine.consent.store.writeIfKnown(claim.customerId, [
        {
          record: {
            channel: 'email',
            topic: 'marketing',
            state: 'denied',
            at,
            source: ONE_CLICK_UNSUBSCRIBE_SOURCE,
          },
        },
      ]);
      if (written === undefined) return unsubscribed(request, reply, claim.topic);
      const email = (await engine.store.profile(claim.customerId)).email;
      if (typeof email === 'string' && email.trim() !== '')
        await engine.suppressions.add(
          { kind: 'email', value: email },
          { reason: 'unsubscribe', at, source: ONE_CLICK_UNSUBSCRIBE_SOURCE },
        );
      await engine.track(
        {
          userId: claim.customerId,
          event: 'Unsubscribed',
          properties: { channel: 'email', topic: claim.topic },
          messageId: `${id}-t`,
        },
        { knownOnly: true },
      );
      return unsubscribed(request, reply, claim.topic);
    },
  );
};

/** The answer to an unsubscribe: a page for a person, JSON for a client. */
function unsubscribed(request: FastifyRequest, reply: FastifyReply, topic: string) {
  return wantsHtml(request.headers)
    ? reply
        .type('text/html; charset=utf-8')
        .send(htmlPage('Unsubscribed', '<p>You will not get marketing email from us any more.</p>'))
    : reply.send({ unsubscribed: true, topic });
}
