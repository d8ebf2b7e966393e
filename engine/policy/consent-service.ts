import { createHash } from 'node:crypto';
import { systemClock, type Clock } from '../clock.js';
import type { IngestOptions } from '../ingest/inbox-intake.js';
import {
  CONFIRMATION_SOURCE,
  type ConsentAnswer,
  type ConsentRecord,
  type ConsentTrait,
} from './consent-record.js';
import type { ConsentMarker, ConsentStore, ConsentWrite } from './consent-store.js';
import type { Resubscribe } from './resubscribe.js';
import { verifyWithAny } from '../signed-token.js';
import { consentConfirmUrl, createConsentToken, verifyConsentToken } from './consent-token.js';
import type { ConsentChannel, Topic } from './topic.js';

/** The event a pending double opt-in emits: a journey on it sends the confirmation email. */
export const CONSENT_REQUESTED_EVENT = 'Consent Requested';
export const CONSENT_CONFIRMED_EVENT = 'Consent Confirmed';

/** The source of a grant recorded by following a double opt-in link. */

/** How long the engine remembers an event id by default (a client `messageId`: a day). */
const DEFAULT_EVENT_ID_MEMORY_MS = 86_400_000;

export interface ConsentOptions {
  /** Email marketing grants stay `pending` until confirmed through a signed link (DOUBLE_OPT_IN). */
  doubleOptIn?: boolean;
  /**
   * Base URL of the HTTP API and the secret signing confirmation links, with the secrets it had
   * before a rotation (links signed with one still confirm). Default: the unsubscribe link's.
   */
  confirmLink?: ConfirmLinkOptions;
}

/** Where double opt-in links lead and what signs them. */
export interface ConfirmLinkOptions {
  baseUrl: string;
  secret: string;
  /** What `secret` was before a rotation (UNSUBSCRIBE_PREVIOUS_SECRETS): links already sent still confirm. */
  previousSecrets?: readonly string[];
  ttlDays?: number;
}

/** Every secret a confirmation link may be signed with, the current first. */
export function confirmLinkSecrets(link: ConfirmLinkOptions): string[] {
  return [link.secret, ...(link.previousSecrets ?? [])];
}

/** One consent answer, as `identify` or the consent API gives it. */
export interface ConsentChange {
  channel: ConsentChannel;
  topic: Topic;
  granted: boolean;
  source: string;
  textVersion?: string | undefined;
  at: number;
}

type Track = (
  input: {
    userId: string;
    event: string;
    properties: Record<string, unknown>;
    messageId: string;
  },
  options?: IngestOptions,
) => Promise<unknown>;

/**
 * Turns consent answers into records, with double opt-in: an email marketing grant is then kept
 * `pending`, and a `Consent Requested` event carrying the signed `confirmUrl` is tracked for the
 * customer, so a journey of the project's own sends the confirmation email in its own words.
 */
export function createConsentService(deps: {
  store: ConsentStore;
  track: Track;
  doubleOptIn: boolean;
  confirmLink: ConfirmLinkOptions | undefined;
  /** How long `track` drops a repeated messageId (the customer store's dedupeSeconds); a day by default. */
  eventIdMemoryMs?: number;
  /** When a confirmation link is made: it lasts its days from then. */
  clock?: Clock;
  /** Lifts an earlier unsubscribe on a grant given through `record` or `confirm` (not a trait's). */
  resubscribe?: Resubscribe;
}) {
  const { store } = deps;
  const linkTtlMs = (deps.confirmLink?.ttlDays ?? 7) * 86_400_000;
  const needsConfirmation = (c: { channel: ConsentChannel; topic: Topic; granted: boolean }) =>
    deps.doubleOptIn && c.granted && c.channel === 'email' && c.topic === 'marketing';
  // Names events after what caused them, so a client's retry of the same call is one event.
  const eventId = (...parts: Array<string | number>) =>
    `consent-${createHash('sha256').update(parts.join('|')).digest('base64url').slice(0, 32)}`;

  const service = {
    store,

    /**
     * Records each answer of an identify call's `consent` trait, as given at `at`, source
     * `identify` by default. All answers go to Redis in one write, issued before this first
     * waits, so the answers of calls made in order (a batch) hold in that order: a later refusal
     * is never overwritten by the grant of an earlier call that was still being written.
     */
    async recordTrait(
      customerId: string,
      trait: ConsentTrait,
      at: number,
      marker?: ConsentMarker,
    ): Promise<void> {
      const changes: ConsentChange[] = [];
      for (const [channel, topics] of Object.entries(trait) as Array<
        [ConsentChannel, ConsentTrait['email']]
      >) {
        for (const [topic, answer] of Object.entries(topics ?? {}) as Array<
          [Topic, ConsentAnswer | undefined]
        >) {
          if (answer === undefined) continue;
          const given = typeof answer === 'boolean' ? { granted: answer } : answer;
          changes.push({
            channel,
            topic,
            granted: given.granted,
            source: given.source ?? 'identify',
            textVersion: given.textVersion,
            at,
          });
        }
      }
      // A trait's grant does not undo a one-click unsubscribe: libraries send the traits they
      // remember again with later calls (analytics.js, RudderStack's context.traits), each dated
      // by its call, so the grant given once would come back at the customer's next login.
      await service.recordAll(customerId, changes, marker, { keepUnsubscribe: true });
    },

    async record(
      customerId: string,
      change: ConsentChange,
    ): Promise<{ record: ConsentRecord; confirmUrl?: string }> {
      const [result] = await service.recordAll(customerId, [change]);
      // As of this answer's time: a grant dated before the unsubscribe (a CRM replaying it) lifts
      // nothing, even when a later grant (a trait's) is the record that holds.
      await deps.resubscribe?.(customerId, { ...result!.record, at: Math.min(result!.record.at, change.at) });
      return result!;
    },

    /**
     * Records several answers of one customer, in order, in one write (see recordTrait). A grant
     * that needs confirmation is stored `pending`, unless a confirmed grant holds already (asking
     * again would only pester the customer), and asks for it with a `Consent Requested` event.
     */
    async recordAll(
      customerId: string,
      changes: readonly ConsentChange[],
      marker?: ConsentMarker,
      options: { keepUnsubscribe?: boolean } = {},
    ): Promise<Array<{ record: ConsentRecord; confirmUrl?: string }>> {
      // A sender's clock may run ahead (a server's, with no sentAt to correct it by): an answer is
      // taken as given no later than it arrived. Kept at its later time, it would hold over every
      // answer until then as older ones, an unsubscribe or a withdrawal among them.
      const now = (deps.clock ?? systemClock).now();
      changes = changes.map((change) => (change.at > now ? { ...change, at: now } : change));
      const writes: ConsentWrite[] = changes.map((change) => {
        const pending = needsConfirmation(change);
        const record: ConsentRecord = {
          channel: change.channel,
          topic: change.topic,
          state: pending ? 'pending' : change.granted ? 'granted' : 'denied',
          at: change.at,
          source: change.source,
          ...(change.textVersion === undefined ? {} : { textVersion: change.textVersion }),
        };
        // Not asked again while an earlier request's link still holds: an app that sends the
        // same consent trait with every identify (at each login) would otherwise send a new
        // confirmation email each time, each link replacing the last.
        const keepsUnsubscribe = options.keepUnsubscribe === true && change.granted;
        return {
          record,
          ...(pending ? { condition: 'unless-granted' as const, pendingSince: change.at - linkTtlMs } : {}),
          ...(keepsUnsubscribe ? { keepsUnsubscribe } : {}),
        };
      });
      // No await before this call: it must be issued in the order of the calls (see ConsentStore.write).
      const written = await store.write(customerId, writes, marker);
      const results: Array<{ record: ConsentRecord; confirmUrl?: string }> = [];
      for (const [i, change] of changes.entries()) {
        const { record, condition } = writes[i]!;
        const { written: made, holds } = written[i]!;
        if (condition !== 'unless-granted') {
          results.push({ record: made ? record : (holds ?? record) });
          continue;
        }
        // Recorded by an earlier try of the same call, which may have died before asking for the
        // confirmation: asked again while its pending record still holds (one event, by its id).
        const askedBefore =
          !made && marker !== undefined && holds?.state === 'pending' && holds.at === change.at;
        if (!made && !askedBefore) {
          results.push({ record: holds ?? record });
          continue;
        }
        const link = deps.confirmLink!;
        const confirmUrl = consentConfirmUrl(
          link.baseUrl,
          createConsentToken(link.secret, {
            customerId,
            channel: change.channel,
            topic: change.topic,
            // From now, not from the answer's time: a call sent late (a mobile library's offline
            // queue, a backfill) gives the answer an earlier time, and a link made from that would
            // reach the customer with days of its week gone, or already expired.
            exp: (deps.clock ?? systemClock).now() + linkTtlMs,
            requestedAt: change.at,
          }),
        );
        await deps.track({
          userId: customerId,
          event: CONSENT_REQUESTED_EVENT,
          properties: { channel: change.channel, topic: change.topic, confirmUrl },
          messageId: eventId(customerId, change.channel, change.topic, change.at),
        });
        results.push({ record: made ? record : (holds ?? record), confirmUrl });
      }
      return results;
    },

    /**
     * Confirms the pending grant a link stands for. `undefined`: the token is invalid or expired;
     * otherwise the record that holds now (still `denied` if the customer withdrew meanwhile, still
     * `pending` if the customer asked again since the link was made: the newer link confirms).
     *
     * The grant is written, then `Consent Confirmed` is tracked under an id named after the grant.
     * A try that dies between the two leaves the grant, so its retry (the person clicking again)
     * finds nothing pending: it tracks the event again, under the same id, for as long as event
     * ids are remembered, so the event is tracked once whichever try got that far.
     */
    async confirm(token: string, now: number): Promise<ConsentRecord | undefined> {
      const link = deps.confirmLink;
      const claim =
        link && verifyWithAny(confirmLinkSecrets(link), (secret) => verifyConsentToken(secret, token, now));
      if (!claim) return undefined;
      let current = await store.get(claim.customerId, claim.channel, claim.topic);
      // A link confirms the request it was made for: a later one (for another address, after the
      // customer withdrew and asked again) needs the link sent for it.
      if (current?.state === 'pending' && (claim.requestedAt ?? current.at) === current.at) {
        const record: ConsentRecord = { ...current, state: 'granted', at: now, source: CONFIRMATION_SOURCE };
        current = (await store.confirm(claim.customerId, record, claim.requestedAt))
          ? record
          : await store.get(claim.customerId, claim.channel, claim.topic);
      }
      const confirmedLately =
        current?.state === 'granted' &&
        current.source === CONFIRMATION_SOURCE &&
        now - current.at < (deps.eventIdMemoryMs ?? DEFAULT_EVENT_ID_MEMORY_MS);
      // Only while the customer is known (their consent is stored): one erased since the grant was
      // read or written would be written back, as a new customer, by the event.
      if (current && confirmedLately) {
        await deps.resubscribe?.(claim.customerId, current);
        await deps.track(
          {
            userId: claim.customerId,
            event: CONSENT_CONFIRMED_EVENT,
            properties: { channel: claim.channel, topic: claim.topic },
            messageId: eventId(claim.customerId, claim.channel, claim.topic, 'confirmed', current.at),
          },
          { knownOnly: true },
        );
      }
      return current;
    },
  };
  return service;
}

export type ConsentService = ReturnType<typeof createConsentService>;
