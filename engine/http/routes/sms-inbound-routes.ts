import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Clock } from '../../clock.js';
import type { Engine } from '../../engine.js';
import { e164PhoneNumber } from '../../channels/phone-number.js';
import { smsKeyword } from '../../channels/sms-keywords.js';
import { isTwilioSignatureValid, type TwilioParams } from '../../channels/twilio-signature.js';
import { isAddressedToUs, type TwilioSenders } from '../../channels/twilio-senders.js';
import { TWILIO_INBOUND_SOURCE_PREFIX } from '../../policy/consent-record.js';
import { recordSmsReply } from '../../policy/sms-reply-consent.js';
import { HttpError, NotFoundError } from '../http-errors.js';

export interface SmsInboundRouteOptions {
  engine: Engine;
  /** TWILIO_AUTH_TOKEN: what Twilio signs its webhooks with. Unset: the route answers 404. */
  twilioAuthToken: string | undefined;
  /** SMS_FROM, or a Messaging Service: texts addressed to anything else change nothing. */
  twilioSenders: TwilioSenders;
  /**
   * PUBLIC_URL, where Twilio reaches the app: the URL it signs is this followed by the request's
   * path. Unset: the URL the request came to, `http://<Host>/…`.
   */
  publicUrl: string | undefined;
  clock: Clock;
}

const TWILIO_INBOUND_PATH = '/v1/sms/inbound/twilio';

/** The source an inbound keyword's suppression is recorded with, as the list shows it. */
const twilioInboundSource = (keyword: string) => `${TWILIO_INBOUND_SOURCE_PREFIX}${keyword}`;

/** How long a message's sid is remembered, so that a redelivery of it changes nothing: a day. */
const SEEN_FOR_MS = 24 * 60 * 60 * 1000;

/** An empty TwiML answer: Twilio sends its own standard reply to a keyword, and nothing else. */
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

const Inbound = z
  .object({
    MessageSid: z.string().min(1).max(64).describe("Twilio's id of the message"),
    From: z.string().min(1).max(64).describe("the customer's number, E.164"),
    To: z.string().max(64).optional().describe('the number the text was sent to, E.164'),
    MessagingServiceSid: z
      .string()
      .max(64)
      .optional()
      .describe('the Messaging Service the receiving number belongs to, if any'),
    Body: z.string().max(1600).default('').describe('the text'),
    OptOutType: z
      .string()
      .max(16)
      .optional()
      .describe('STOP, START or HELP: what Twilio took the text for, with Advanced Opt-Out'),
  })
  .loose();

/** A request whose `X-Twilio-Signature` is not Twilio's for it: refused before anything is read. */
export class TwilioSignatureError extends HttpError {
  static readonly code = 'CHORUS_TWILIO_SIGNATURE_INVALID';
  constructor(message: string) {
    super(403, TwilioSignatureError.code, message);
  }
}

/**
 * Texts customers send to the Twilio number: where Twilio's "A message comes in" webhook points.
 * A reply of STOP (or another opt-out keyword) suppresses the number as an `unsubscribe`, so
 * marketing texts to it stop before Twilio, which blocks them from then on anyway, and withdraws
 * the SMS marketing consent of the customers with that number (see recordSmsReply); START lifts
 * that suppression again (a hard bounce stays) and grants the consent again. Other texts, HELP
 * among them, are acknowledged and change nothing, as does any text sent to a number that is not
 * our sender. Signed by Twilio with the auth token, not by the API key, which Twilio cannot send.
 * The answer is empty TwiML, so Twilio's own replies to the keywords still go out.
 */
export const smsInboundRoutes: FastifyPluginAsyncZod<SmsInboundRouteOptions> = async (app, options) => {
  const { engine, twilioAuthToken, twilioSenders, clock } = options;
  const base = options.publicUrl?.replace(/\/+$/, '');
  const seenKey = (sid: string) => `${engine.prefix}:sms-inbound:twilio:${sid}`;
  // Twilio posts its webhooks form-encoded; the fields are signed as sent, every one of them.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => done(null, formFields(body as string)),
  );

  app.post(
    TWILIO_INBOUND_PATH,
    {
      schema: {
        tags: ['consent'],
        summary: 'A text a customer sent to the Twilio number: STOP suppresses the number, START lifts it',
        description:
          'Point the Twilio number\'s (or Messaging Service\'s) "A message comes in" webhook here, HTTP POST. ' +
          'Signed by Twilio: `X-Twilio-Signature` over PUBLIC_URL and this path with TWILIO_AUTH_TOKEN, not the API key. ' +
          'STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE or OPTOUT (the whole text, any case) suppresses `From` ' +
          'as an unsubscribe, withdraws SMS marketing consent of every customer whose `phone` trait is that number ' +
          'and tracks `Unsubscribed` for them; START, YES or UNSTOP lifts that suppression, grants the consent again ' +
          'and tracks `Subscribed`; other texts change nothing. ' +
          "A Messaging Service's own keywords count too, by the `OptOutType` Advanced Opt-Out sends. " +
          'Only a text sent to SMS_FROM (its `To`), or to a number of the configured Messaging Service, counts: ' +
          "one sent to the account's other numbers changes nothing and is logged. " +
          'The answer is an empty TwiML `<Response/>`, so Twilio sends its standard replies.',
        consumes: ['application/x-www-form-urlencoded'],
        body: Inbound,
        // Signed by Twilio (see the description), not by the API key.
        security: [],
        // XML, while refusals stay JSON as everywhere (see documentRoute).
        response: {
          200: {
            description: 'an empty TwiML `<Response/>`',
            content: { 'text/xml': { schema: z.string() } },
          },
        },
      },
      // Before the body's fields are checked: an unsigned request learns nothing of them.
      preValidation: async (request) => {
        if (twilioAuthToken === undefined)
          throw new NotFoundError(
            'Inbound SMS is not set up, as Twilio is not configured. To fix: set TWILIO_ACCOUNT_SID, ' +
              'TWILIO_AUTH_TOKEN and SMS_FROM, or point the number\'s "A message comes in" webhook elsewhere.',
          );
        const url = `${base ?? `${request.protocol}://${request.host}`}${request.url}`;
        const params = (request.body ?? {}) as TwilioParams;
        const signature = signatureOf(request);
        if (!isTwilioSignatureValid(twilioAuthToken, signature, url, params))
          throw new TwilioSignatureError(
            `The X-Twilio-Signature header is ${signature === undefined ? 'missing' : 'not valid'} for ${url}. ` +
              'To fix: set the webhook in Twilio to exactly that URL (PUBLIC_URL followed by this path, behind a proxy too) ' +
              "and TWILIO_AUTH_TOKEN to the account's primary auth token.",
          );
      },
    },
    async (request, reply) => {
      const { MessageSid: sid, From: from, Body: body, OptOutType: optOutType } = request.body;
      // Another number of the account is another sender (another brand, a test number): its
      // STOP is no opt-out from ours. Answered 200 all the same, as Twilio retries an error.
      if (!isAddressedToUs(twilioSenders, request.body)) {
        request.log.warn(
          {
            messageSid: sid,
            to: request.body.To ?? '',
            messagingServiceSid: request.body.MessagingServiceSid ?? '',
          },
          'inbound sms not addressed to SMS_FROM or its Messaging Service: changed nothing. To fix: point only ' +
            'our own number\'s "A message comes in" webhook here, or set SMS_FROM to the number texts go out from',
        );
        return reply.type('text/xml; charset=utf-8').send(EMPTY_TWIML);
      }
      const keyword = smsKeyword(body, optOutType);
      const phone = e164PhoneNumber(from);
      // A redelivered STOP after the customer's START must not suppress them again.
      const act =
        phone !== undefined &&
        (keyword === 'opt-out' || keyword === 'opt-in') &&
        (await engine.store.redis.exists(seenKey(sid))) === 0;
      let customers = 0;
      if (act) {
        const address = { kind: 'phone', value: phone } as const;
        const at = clock.now();
        const source = twilioInboundSource(body.trim().toUpperCase().slice(0, 40));
        if (keyword === 'opt-out')
          await engine.suppressions.add(address, { reason: 'unsubscribe', at, source });
        // A hard bounce (a number that does not exist) is not the customer's to lift.
        else await engine.suppressions.remove(address, 'unsubscribe');
        // And the customers with that number: their consent, and an event journeys can act on.
        customers = (await recordSmsReply(engine, { phone, keyword, at, source, messageSid: sid })).length;
        await engine.store.redis.set(seenKey(sid), '1', 'PX', SEEN_FOR_MS);
      }
      request.log.info({ messageSid: sid, keyword: keyword ?? 'none', acted: act, customers }, 'inbound sms');
      return reply.type('text/xml; charset=utf-8').send(EMPTY_TWIML);
    },
  );
};

function signatureOf(request: FastifyRequest): string | undefined {
  const header = request.headers['x-twilio-signature'];
  return typeof header === 'string' && header !== '' ? header : undefined;
}

/** A form's fields by name; a name sent more than once keeps each of its values, as they are signed. */
function formFields(body: string): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of new URLSearchParams(body)) {
    const earlier = fields[name];
    fields[name] =
      earlier === undefined ? value : [...(typeof earlier === 'string' ? [earlier] : earlier), value];
  }
  return fields;
}
