import type { FastifyInstance } from 'fastify';
import { HttpError } from '../http-errors.js';

/**
 * No icon, said in the page: without one a browser asks for /favicon.ico, answered 404 (an error
 * in its console) and, behind a proxy under a path, a request outside it.
 */
export const NO_ICON = '<link rel="icon" href="data:,">';

/** A minimal page for people following a link from a message (unsubscribe, confirm). */
export const htmlPage = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
  `${NO_ICON}<title>${title}</title></head><body style="font-family:system-ui;max-width:32rem;margin:4rem auto;padding:0 1rem">` +
  `<h1>${title}</h1>${body}</body></html>`;

/** Whether the request comes from a browser that wants a page (a person following a link). */
export const wantsHtml = (headers: { accept?: string | undefined }) =>
  (headers.accept ?? '').includes('text/html');

/**
 * A refused link from a message, as a page for the person who followed it: the reason and the
 * error code. A link that is fine but cannot be served now (503: Redis away) says to try again.
 * Machines (a mail client's one-click POST) get JSON.
 */
export function refusedLinkPage(error: { status: number; code: string; message: string }): string {
  return refusalPage(error.status >= 500 ? 'Please try again in a moment' : 'This link is not valid', error);
}

/** A refusal as a page for a person: a title, the error's message and its code. */
export function refusalPage(title: string, error: { code: string; message: string }): string {
  const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return htmlPage(title, `<p>${escape(error.message)}</p><p><small>${escape(error.code)}</small></p>`);
}

/**
 * A link whose token is missing or cut to a shape the route refuses before reading it: a mail
 * client that wrapped a long URL, or a person who copied part of it.
 */
const incompleteLink = {
  status: 400,
  code: 'CHORUS_INVALID_INPUT',
  message: 'This link is incomplete. To fix: open the link from the message again, the whole of it.',
};

/**
 * Answers a browser whose request the routes of `app` (a plugin's scope) refuse with an HttpError
 * with a page (refusedLinkPage), keeping the error's status and headers (`Retry-After`), and one
 * whose link the route's schema refuses (no token) with the page for an incomplete link; anything
 * else goes on to the app's own error handler, as JSON.
 */
export function refusedLinksAsPages(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    if (!wantsHtml(request.headers)) throw error;
    if (error instanceof HttpError)
      return reply
        .code(error.status)
        .headers(error.headers)
        .type('text/html; charset=utf-8')
        .send(refusedLinkPage(error));
    if ((error as { validation?: unknown }).validation !== undefined)
      return reply.code(400).type('text/html; charset=utf-8').send(refusedLinkPage(incompleteLink));
    throw error;
  });
}

/**
 * Keeps the pages of the link routes of `app` (a plugin's scope) out of caches and their URL out
 * of Referer headers: the URL carries the token that acts for the customer, and a shared proxy or
 * the browser's back/forward cache could show the page (its form holding the token) again later.
 * Also on refusals, which are pages too.
 */
export function privateLinkPages(app: FastifyInstance): void {
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
  });
}

/**
 * Makes the link routes of `app` (a plugin's scope) take a POST whatever its body: their token,
 * in the URL, is the only thing they read. Refusing a body type refused the action itself: RFC
 * 8058 has mail receivers send the one-click body as multipart/form-data (or form-encoded), and
 * a browser submits a page's form form-encoded, empty when it has no named field. The body is
 * still read, so BODY_LIMIT holds, and then dropped.
 */
export function ignoreBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, _body, done) => done(null, undefined));
}
