import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Clock } from '../../clock.js';
import type { Engine } from '../../engine.js';
import { verifyWithAny } from '../../signed-token.js';
import { recordEngagement } from '../../tracking/engagement.js';
import { resolveShortLink } from '../../tracking/short-links.js';
import { htmlPage, NO_ICON } from './html-page.js';
import {
  MAX_TRACKING_TOKEN_LENGTH,
  verifyTrackingToken,
  type VerifiedTrackingClaim,
} from '../../tracking/tracking-token.js';

export interface TrackingRouteOptions {
  engine: Engine;
  /**
   * Verify tracking tokens: `trackingSecret(UNSUBSCRIBE_SECRET)`, then those of the secrets it had
   * before (UNSUBSCRIBE_PREVIOUS_SECRETS), so links sent before a rotation still lead on.
   */
  secrets: readonly string[];
  clock: Clock;
  /**
   * Whether a URL is one of a message's brand hosts now (`renderer.isBrandLink`, see BrandHosts):
   * asked only of links signed before hosts were checked at send time. Unset: none is.
   */
  brandLink?: (messageId: string, url: string) => boolean;
}

// A wildcard rather than `:token`: Fastify refuses path parameters over 100 characters, and a
// token carries its whole URL.
const Params = z.object({ '*': z.string().max(MAX_TRACKING_TOKEN_LENGTH) });
const ShortParams = z.object({ id: z.string() });

/** The smallest transparent GIF: 1×1, one colour. */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

const INVALID_PAGE =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">' +
  NO_ICON +
  '<title>Link not valid</title></head><body style="font-family:system-ui;max-width:32rem;margin:4rem auto;padding:0 1rem">' +
  '<h1>This link is not valid</h1><p>It was changed or cut short on its way here. Open it again from the message you got.</p>' +
  '<p><small>CHORUS_TRACKING_TOKEN_INVALID</small></p></body></html>';

const TOKEN_INVALID = 'CHORUS_TRACKING_TOKEN_INVALID';

const invalidLink = (reply: FastifyReply) =>
  reply.code(400).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(INVALID_PAGE);

const SHORT_LINK_UNAVAILABLE = htmlPage(
  'This link cannot be opened right now',
  '<p>Please try again in a minute.</p>',
);

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The page a link signed before hosts were checked shows when it leads off the brand's hosts: it
 * names where the link goes and lets the person go on, but the brand's domain no longer forwards
 * them there unseen, which is what made such a link worth passing on for phishing.
 */
function leavingPage(url: string): string {
  const href = escapeHtml(location(url));
  return htmlPage(
    `This link leads to ${escapeHtml(new URL(url).host)}`,
    `<p>It is not one of the sender's own sites. Go on only if you expected it and trust it:</p>` +
      `<p><a href="${href}" rel="noreferrer nofollow">${escapeHtml(url)}</a></p>`,
  );
}

/**
 * The `Location` for a URL: as written when it is plain ASCII, else the same URL encoded as a
 * browser would follow it (`%20`, punycode), since a header cannot carry spaces or Unicode.
 */
function location(url: string): string {
  return /^[\x21-\x7e]+$/.test(url) ? url : new URL(url).href;
}

/**
 * Click redirects and the open pixel. `GET /t/c/<token>` answers 302 to exactly the URL the
 * signed token carries; any other token gets a 400 page and no `Location`, so the route is no
 * open redirect. A token signed before only the brand's hosts were tracked (version 1) redirects
 * only to a host that is the brand's now (`brandLink`); to another it answers a page naming
 * where the link leads, with a link there. `GET /t/s/<id>`, an SMS's short link, answers as the
 * tracked link whose token is stored under the id (see short-links.ts); an id unknown, expired
 * or erased gets the same 400 page. `GET /t/o/<token>` answers a 1×1 GIF. Both record the open or click, but a
 * failure to record (Redis away) never keeps a person from the page they clicked through to;
 * the routes are therefore outside the API's "Redis must be up" scope.
 */
export const trackingRoutes: FastifyPluginAsyncZod<TrackingRouteOptions> = async (app, options) => {
  const { engine, secrets, clock, brandLink } = options;
  const verify = (token: string) => verifyWithAny(secrets, (secret) => verifyTrackingToken(secret, token));

  async function record(
    claim: VerifiedTrackingClaim,
    request: { method: string; log: { warn: (o: object, m: string) => void } },
  ) {
    // Fastify answers HEAD from the GET route; a HEAD is a link checker, not a person, so it is not counted.
    if (request.method !== 'GET') return;
    const log = request.log;
    const { opId, customerId, journeyId, message, channel, variant } = claim;
    // Tokens do not expire, so an erased customer's old email still opens and its links still
    // lead on; recording them would store, under the customer's id, what the erasure removed
    // (and what their export, answering 404, would not show). Only a customer the engine knows
    // is recorded (knownOnly: checked in the same atomic step as the write).
    await recordEngagement(engine.store.redis, engine.prefix, {
      send: { opId, customerId, journeyId, message, channel, variant },
      kind: claim.kind === 'click' ? 'clicked' : 'opened',
      at: clock.now(),
      ...(claim.kind === 'click' ? { url: claim.url } : {}),
      knownOnly: true,
    }).catch((err: unknown) => log.warn({ err, opId, kind: claim.kind }, `${claim.kind} not recorded`));
  }

  /** A verified click, by its token or its short link: recorded, then redirected (or shown where it leads). */
  async function clickThrough(
    claim: VerifiedTrackingClaim & { kind: 'click' },
    request: FastifyRequest,
    reply: FastifyReply,
  ) {
    await record(claim, request);
    if (claim.hostUnchecked === true && brandLink?.(claim.message, claim.url) !== true) {
      // Links signed since hosts are checked redirect whatever the configuration says now: that
      // check was made when they were sent. An older one may carry a URL from a customer's
      // traits; a person who clicked it is shown where it goes rather than taken there.
      return reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('referrer-policy', 'no-referrer')
        .header('x-robots-tag', 'noindex')
        .send(leavingPage(claim.url));
    }
    // no-store: every click comes back here to be counted. no-referrer: the destination need not
    // see the token, which names the customer.
    return reply
      .header('cache-control', 'no-store')
      .header('referrer-policy', 'no-referrer')
      .redirect(location(claim.url), 302);
  }

  app.get(
    '/t/c/*',
    {
      schema: {
        tags: ['tracking'],
        summary: 'A tracked link: records the click and redirects to the URL its signed token carries',
        params: Params,
        security: [],
      },
    },
    async (request, reply) => {
      const claim = verify(request.params['*']);
      if (claim?.kind !== 'click') {
        request.log.info({ code: TOKEN_INVALID }, 'tracked link with an invalid token');
        return invalidLink(reply);
      }
      return clickThrough(claim, request, reply);
    },
  );

  app.get(
    '/t/s/:id',
    {
      schema: {
        tags: ['tracking'],
        summary:
          'A short link of an SMS: records the click and redirects as the tracked link it stands for does',
        params: ShortParams,
        security: [],
      },
    },
    async (request, reply) => {
      let token: string | undefined;
      try {
        token = await resolveShortLink(engine.store.redis, engine.prefix, request.params.id, clock.now());
      } catch (err) {
        // Without Redis the link cannot be looked up: a person asked to retry, not told it is broken.
        request.log.warn({ err }, 'short link not looked up');
        return reply
          .code(503)
          .header('retry-after', '30')
          .header('cache-control', 'no-store')
          .type('text/html; charset=utf-8')
          .send(SHORT_LINK_UNAVAILABLE);
      }
      // Unknown, expired or erased, or signed with a secret no longer accepted: the same page as a bad token.
      const claim = token === undefined ? undefined : verify(token);
      if (claim?.kind !== 'click') {
        request.log.info({ code: TOKEN_INVALID }, 'short link unknown or expired');
        return invalidLink(reply);
      }
      return clickThrough(claim, request, reply);
    },
  );

  app.get(
    '/t/o/*',
    {
      schema: {
        tags: ['tracking'],
        summary: 'The open pixel of an email: records the open, answers a 1×1 transparent GIF',
        params: Params,
        security: [],
      },
    },
    async (request, reply) => {
      const claim = verify(request.params['*']);
      if (claim?.kind !== 'open') {
        request.log.info({ code: TOKEN_INVALID }, 'open pixel with an invalid token');
        return reply.code(400).header('cache-control', 'no-store').type('text/plain').send(TOKEN_INVALID);
      }
      await record(claim, request);
      return reply
        .type('image/gif')
        .header('cache-control', 'no-store, no-cache, must-revalidate, max-age=0')
        .header('pragma', 'no-cache')
        .header('expires', '0')
        .send(PIXEL);
    },
  );
};
