import { createHash } from 'node:crypto';

/**
 * Deterministic ids. BullMQ job ids may not contain `:` and may not be all digits; Redis Cluster
 * hash tags break on `{`/`}`; and ids joined with `-` must never collide (customer `bob-vip` in
 * journey `winback` against customer `bob` in journey `vip-winback`). So user-supplied parts are
 * encoded to letters, digits and `%XX`, leaving `-` as an unambiguous separator.
 */
export function encodeIdPart(value: string): string {
  // Letters and digits are kept as they are; only the runs of other characters are UTF-8 encoded.
  return HAS_UNSAFE.test(value) ? value.replace(UNSAFE_RUNS, percentEncodeUtf8) : value;
}

const HAS_UNSAFE = /[^A-Za-z0-9]/;
const UNSAFE_RUNS = /[^A-Za-z0-9]+/g;
const HEX_BYTES = Array.from(
  { length: 256 },
  (_, byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
);

function percentEncodeUtf8(run: string): string {
  let encoded = '';
  // ASCII (`-`, `_`, `.`, `@` in most ids) is its own UTF-8 byte: no Buffer needed for it.
  for (let i = 0; i < run.length; i++) {
    const code = run.charCodeAt(i);
    if (code >= 0x80) return encoded + encodeBytes(run.slice(i));
    encoded += HEX_BYTES[code];
  }
  return encoded;
}

function encodeBytes(rest: string): string {
  let encoded = '';
  for (const byte of Buffer.from(rest, 'utf8')) encoded += HEX_BYTES[byte];
  return encoded;
}

const tokens = new Map<string, string>();

/** A customer id encoded for keys and job ids (memoised: it is on every hot path). */
export function customerToken(customerId: string): string {
  let token = tokens.get(customerId);
  if (token === undefined) {
    token = encodeIdPart(customerId);
    if (tokens.size > 10_000) tokens.clear();
    tokens.set(customerId, token);
  }
  return token;
}

/** The customer whose key token `token` is, or `undefined` when no customer id encodes to it. */
export function customerOfToken(token: string): string | undefined {
  try {
    const customerId = decodeURIComponent(token);
    // An id that does not encode back (half a UTF-16 pair, another writer's escaping) is not the token's.
    return customerToken(customerId) === token ? customerId : undefined;
  } catch {
    return undefined; // not percent-encoding customerToken wrote
  }
}

/**
 * The delayed job that delivers the `index`-th delay scheduled by revision `rev` of an instance.
 * The instance id (`<journey>.<seq>`) may contain dashes; it sits between a dash-free customer
 * token and two trailing numbers, so the id still reads back one way only.
 */
export function timerJobId(customerId: string, instanceId: string, rev: number, index: number): string {
  return `t-${customerToken(customerId)}-${instanceId}-${rev}-${index}`;
}

/**
 * The longest operation id a send can have: `s-`, the customer id with every character but
 * letters and digits percent-encoded (up to nine characters for each of the 256 a user id may
 * have), the journey id (64 at most) and its entry and step numbers. What an inbound id (an
 * in-app message's, a provider report's) is checked against.
 */
export const MAX_OP_ID_LENGTH = 2 + 256 * 9 + 1 + 64 + 64;

/**
 * The longest operation id an email carries as it is, in `X-Chorus-Op` and in its `Message-ID`.
 * A customer id of ordinary length (a UUID or an email address, percent-encoded) stays readable
 * there; a longer one (a user id may have 256 characters, each up to nine once encoded) would
 * make those header lines longer than the 998 characters RFC 5322 allows, and a header value
 * without spaces cannot be folded.
 */
export const MAX_HEADER_OP_ID_LENGTH = 200;

/**
 * The operation id as an email's headers carry it (`X-Chorus-Op`, the left part of its
 * `Message-ID`): the id itself up to MAX_HEADER_OP_ID_LENGTH characters, past that `h-` and the
 * SHA-256 of the id in base64url (45 characters), the same on every attempt. A provider's report
 * may name a send by either; see matchesOpId.
 */
export function headerOpId(opId: string): string {
  return opId.length <= MAX_HEADER_OP_ID_LENGTH
    ? opId
    : `h-${createHash('sha256').update(opId).digest('base64url')}`;
}

/** Whether `given` (from a provider's report) names the send `opId`: as it is, or as its email's headers carry it. */
export function matchesOpId(opId: string, given: string): boolean {
  return opId === given || (given.startsWith('h-') && headerOpId(opId) === given);
}

/** The operation id (and delivery job id) of the `index`-th send made by revision `rev` of an instance. */
export function sendOpId(customerId: string, instanceId: string, rev: number, index: number): string {
  return `s-${customerToken(customerId)}-${instanceId}-${rev}-${index}`;
}

/** The job that drains a customer's inbox after an event arrived. */
export function drainJobId(customerId: string, eventId: string): string {
  return `d-${customerToken(customerId)}-${encodeIdPart(eventId)}`;
}

/**
 * The customer and instance a timer job id names: the inverse of `timerJobId`, `undefined` for
 * an id of another shape. The customer token has no dash, the instance id sits between it and
 * the two trailing numbers.
 */
export function parseTimerJobId(jobId: string): { customerId: string; instanceId: string } | undefined {
  return jobId.startsWith('t-') ? parseStepJobId(jobId) : undefined;
}

/**
 * The customer and instance a timer job id or a send's operation id (`sendOpId`, also its
 * delivery job's id) names, `undefined` for an id of another shape.
 */
export function parseStepJobId(jobId: string): { customerId: string; instanceId: string } | undefined {
  const match = STEP_JOB_ID.exec(jobId);
  if (!match) return undefined;
  try {
    return { customerId: decodeURIComponent(match[1]!), instanceId: match[2]! };
  } catch {
    return undefined; // not percent-encoding this module wrote
  }
}

/** Customer, instance, the revision of the instance whose step made it, then the entry number. */
const STEP_JOB_ID = /^[ts]-([^-]*)-(.+)-(\d+)-\d+$/;

/**
 * The revision of the instance whose step made a timer or a send (`timerJobId`, `sendOpId`), or
 * `undefined` for an id of another shape.
 */
export function stepRevOf(jobId: string): number | undefined {
  return parseStepJobId(jobId) && Number(STEP_JOB_ID.exec(jobId)![3]);
}
