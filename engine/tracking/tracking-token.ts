import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { CHANNELS, type Channel } from '../journey/journey-schema.js';
import { openToken, sealToken } from '../signed-token.js';

/** Which send a tracked link or pixel belongs to: what opens and clicks are counted by. */
export interface TrackedSend {
  opId: string;
  customerId: string;
  journeyId: string;
  message: string;
  channel: Channel;
  /** Split variants as one label, `control` when the customer passed no split. */
  variant: string;
}

/** What a tracking token stands for: an open of the send, or a click through to `url`. */
export type TrackingClaim = (TrackedSend & { kind: 'open' }) | (TrackedSend & { kind: 'click'; url: string });

/**
 * A claim as read back from a token. `hostUnchecked`: a click token signed before only links to
 * the brand's hosts were tracked (version 1), whose URL may be one a customer typed in.
 */
export type VerifiedTrackingClaim =
  (TrackedSend & { kind: 'open' }) | (TrackedSend & { kind: 'click'; url: string; hostUnchecked?: true });

/** The URLs a tracked link may lead to. */
const TrackableUrl = z.url({ protocol: /^https?$/ });

/** Whether a token can carry `url`: only such links are tracked, so every tracked link redirects. */
export function isTrackableUrl(url: string): boolean {
  return TrackableUrl.safeParse(url).success;
}

/**
 * The version new tokens carry. 2: the link's host was checked to be the brand's when it was
 * signed (see BrandHosts); 1, before that, any http(s) URL a message held was signed.
 */
const TOKEN_VERSION = 2;
const Version = z.union([z.literal(1), z.literal(TOKEN_VERSION)]);

// A positional array keeps tokens short: SMS and push carry them too, and every character of an
// SMS counts towards its segments.
const Payload = z.union([
  z.tuple([
    Version,
    z.literal('o'),
    z.string(),
    z.string(),
    z.string(),
    z.string(),
    z.enum(CHANNELS),
    z.string(),
  ]),
  z.tuple([
    Version,
    z.literal('c'),
    z.string(),
    z.string(),
    z.string(),
    z.string(),
    z.enum(CHANNELS),
    z.string(),
    TrackableUrl,
  ]),
]);

/**
 * The key that signs tracking tokens, derived from the unsubscribe secret: one secret less to
 * configure and keep in step between API and workers, and a separate key, so a tracking token
 * can never pass as an unsubscribe token or the other way round.
 */
export function trackingSecret(unsubscribeSecret: string): string {
  return createHmac('sha256', unsubscribeSecret).update('chorus tracking tokens v1').digest('base64url');
}

/**
 * The longest token the click and open routes take. A link that would need a longer one (its URL
 * some 6,000 characters, fewer in non-Latin script) is sent untracked rather than broken.
 */
export const MAX_TRACKING_TOKEN_LENGTH = 8192;

// 128 bits of the HMAC: unforgeable in practice, and 21 characters shorter in every link.
const SHORT_MAC = { macBytes: 16 };

/**
 * A signed token for a tracked link or open pixel. It carries the whole claim (no lookup at
 * click time) and does not expire: people click old emails, and the signature alone is what
 * makes the redirect safe.
 */
export function createTrackingToken(secret: string, claim: TrackingClaim): string {
  const fields = [TOKEN_VERSION, claim.kind === 'open' ? 'o' : 'c', claim.opId, claim.customerId];
  fields.push(claim.journeyId, claim.message, claim.channel, claim.variant);
  if (claim.kind === 'click') fields.push(claim.url);
  return sealToken(secret, fields, SHORT_MAC);
}

/** The claim of a token signed with `secret`, or `undefined` for any other string. */
export function verifyTrackingToken(secret: string, token: string): VerifiedTrackingClaim | undefined {
  const json = openToken(secret, token, SHORT_MAC);
  if (json === undefined) return undefined;
  const parsed = Payload.safeParse(json);
  if (!parsed.success) return undefined;
  const [version, kind, opId, customerId, journeyId, message, channel, variant] = parsed.data;
  const send = { opId, customerId, journeyId, message, channel, variant };
  if (kind === 'o') return { kind: 'open', ...send };
  const click = { kind: 'click' as const, ...send, url: parsed.data[8] };
  return version === 1 ? { ...click, hostUnchecked: true } : click;
}

function base(publicUrl: string): string {
  return publicUrl.replace(/\/+$/, '');
}

/** The tracked link that redirects to the token's URL. */
export function clickUrl(publicUrl: string, token: string): string {
  return `${base(publicUrl)}/t/c/${token}`;
}

/** The open pixel's URL. */
export function openUrl(publicUrl: string, token: string): string {
  return `${base(publicUrl)}/t/o/${token}`;
}
