import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Clock } from '../../clock.js';
import { EMAIL_UNSUBSCRIBED_TRAIT } from '../../delivery/unsubscribe-policy.js';
import { verifyUnsubscribeToken } from '../../delivery/unsubscribe-token.js';
import type { Engine } from '../../engine.js';
import { HttpError } from '../http-errors.js';

export interface UnsubscribeRouteOptions {
  engine: Engine;
  secret: string;
  clock: Clock;
}

const Query = z.object({ token: z.string().min(1).max(2000) });

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
  `<title>${title}</title></head><body style="font-family:system-ui;max-width:32rem;margin:4rem auto;padding:0 1rem">` +
  `<h1>${title}</h1>${body}</body></html>`;

/**
 * One-click unsubscribe (RFC 8058). The mail client POSTs `List-Unsubscribe=One-Click` to the
 * URL from the header, with no cookie or session: the signed, expiring token is the only
 * credential. A GET (a person clicking the link, or a link scanner) only shows a confirm button,
 * so scanners cannot unsubscribe anyone.
 */
export const unsubscribeRoutes: FastifyPluginAsyncZod<UnsubscribeRouteOptions> = async (app, options) => {
  const { engine, secret, clock } = options;
  // Mail clients send the one-click body form-encoded; its content is fixed and not needed.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_r, body, done) =>
    done(null, body),
  );

  function claimOf(token: string) {
    const claim = verifyUnsubscribeToken(secret, token, clock.now());
    if (!claim)
      throw new HttpError(
        400,
        'CHORUS_UNSUBSCRIBE_TOKEN_INVALID',
        'This unsubscribe link is invalid or has expired. To fix: use the link in a recent email.',
      );
    return claim;
  }

  app.get(
    '/v1/unsubscribe',
    {
      schema: {
        tags: ['unsubscribe'],
        summary: 'Confirmation page for an unsubscribe link',
        querystring: Query,
      },
    },
    async (request, reply) => {
      claimOf(request.query.token);
      const action = `/v1/unsubscribe?token=${encodeURIComponent(request.query.token)}`;
      return reply
        .type('text/html; charset=utf-8')
        .send(
          page(
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
      },
    },
    async (request, reply) => {
      const claim = claimOf(request.query.token);
      const at = new Date(clock.now()).toISOString();
      // The token itself names the event, so a client's retry of the same click is one event.
      const id = `unsub-${createHash('sha256').update(request.query.token).digest('base64url')}`;
      await engine.identify({
        userId: claim.customerId,
        traits: { [EMAIL_UNSUBSCRIBED_TRAIT]: at },
        messageId: `${id}-i`,
      });
      await engine.track({
        userId: claim.customerId,
        event: 'Unsubscribed',
        properties: { channel: 'email', topic: claim.topic },
        messageId: `${id}-t`,
      });
      const wantsHtml = (request.headers.accept ?? '').includes('text/html');
      return wantsHtml
        ? reply
            .type('text/html; charset=utf-8')
            .send(page('Unsubscribed', '<p>You will not get marketing email from us any more.</p>'))
        : reply.send({ unsubscribed: true, topic: claim.topic });
    },
  );
};
