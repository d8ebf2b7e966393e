import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { readDismissedInApp, readInAppInbox } from '../../channels/in-app-adapter.js';
import type { Clock } from '../../clock.js';
import { resolveAddress } from '../../delivery/address.js';
import type { Engine } from '../../engine.js';
import { ConsentRecord } from '../../policy/consent-record.js';
import { suppressibleAddress, type SuppressedAddress } from '../../policy/suppression-list.js';
import { customerConversions } from '../../store/conversion-log.js';
import { tallyDeltas } from '../../store/journey-counts.js';
import { handedOver } from '../../tracking/delivery-report.js';
import { readEngagementList, readSendEngagement } from '../../tracking/engagement.js';
import { NotFoundError } from '../http-errors.js';

/** The email address, phone number and push token delivery reaches the customer at, as the suppression list knows them. */
function addressesOf(traits: Record<string, unknown>): SuppressedAddress[] {
  return (['email', 'sms', 'push'] as const).flatMap((channel) => {
    const address = suppressibleAddress(channel, resolveAddress(channel, traits, undefined));
    return address ? [address] : [];
  });
}

const Params = z.object({ userId: z.string().min(1).max(256) });

const Instance = z.object({
  instanceId: z.string(),
  journeyId: z.string(),
  version: z.number(),
  state: z.string(),
  stage: z.string(),
  status: z.enum(['active', 'done', 'failed']),
  exitReason: z.string().optional(),
  enteredAt: z.string().describe('ISO 8601'),
  updatedAt: z.string().describe('ISO 8601'),
});

const MessageEntry = z
  .looseObject({
    opId: z.string(),
    journeyId: z.string(),
    // Optional where entries written by an older Chorus may lack them.
    journeyVersion: z.number().optional().describe('the journey version the customer was on'),
    instanceId: z.string().optional().describe('the journey instance that sent it'),
    state: z.string().optional().describe('the journey state that sent it'),
    stage: z.string().optional().describe("that state's funnel stage"),
    message: z.string(),
    channel: z.string(),
    variant: z.string().optional(),
    status: z
      .string()
      .describe(
        'sent, failed, unknown, skipped, rerouted (then `to` names the next channel) or delayed (until `until`)',
      ),
    reason: z.string().optional(),
    rule: z.string().optional().describe('the policy rule that skipped, rerouted or delayed it'),
    to: z.string().optional().describe('rerouted: the channel the send was handed to'),
    until: z.number().optional().describe('delayed: until when, epoch ms'),
    holds: z
      .number()
      .optional()
      .describe('delayed: how many times the send was held, when more than once (`at` is the latest)'),
    heldSince: z
      .number()
      .optional()
      .describe('delayed and held more than once: when it was first held, epoch ms'),
    provider: z.string().optional().describe('the provider that took, refused or may have the message'),
    providerId: z.string().optional().describe("sent: the provider's id for the message"),
    resent: z
      .boolean()
      .optional()
      .describe('sent again after an attempt that may have arrived, to a provider that recognises a repeat'),
    at: z.number().describe('epoch ms'),
    untracked: z
      .array(z.enum(['opens', 'clicks']))
      .optional()
      .describe(
        'sent: what of it could not be seen (opens: an email without the open pixel; clicks: no tracked link), so the report leaves it out of that rate',
      ),
    openedAt: z.number().optional().describe('first open, epoch ms (email with TRACK_OPENS)'),
    clickedAt: z.number().optional().describe('first click of a tracked link, epoch ms'),
    clicks: z.number().optional().describe('clicks of tracked links'),
    deliveredAt: z.number().optional().describe('when the provider reported delivery, epoch ms'),
    bouncedAt: z.number().optional().describe('when the provider reported a bounce, epoch ms'),
    complainedAt: z.number().optional().describe('when the provider reported a complaint, epoch ms'),
  })
  .describe('one message handed to delivery, newest first');

const Customer = z.object({
  userId: z.string(),
  traits: z.record(z.string(), z.unknown()),
  journeys: z.array(Instance),
  messages: z.array(MessageEntry),
  consent: z.array(ConsentRecord).describe('what holds per channel and topic, with its evidence'),
  pendingEvents: z.number().describe('events accepted and not yet applied'),
});

export const customerRoutes: FastifyPluginAsyncZod<{ engine: Engine; clock: Clock }> = async (
  app,
  { engine, clock },
) => {
  async function load(userId: string) {
    const stored = await engine.customer(userId);
    // A consent answer may come before any event (a sign-up form's checkbox): what is stored of
    // the customer then must still be shown, and exported on a data subject's request.
    const nothingStored =
      stored.rev === 0 &&
      stored.pendingEvents === 0 &&
      stored.messages.length === 0 &&
      (await engine.store.redis.llen(engine.store.keys(userId).consentLog)) === 0;
    if (nothingStored)
      throw new NotFoundError(`No customer "${userId}". To fix: identify or track them first.`);
    return stored;
  }

  app.get(
    '/v1/customers/:userId',
    {
      schema: {
        tags: ['customers'],
        summary:
          'A customer: traits, journey instances (active ones, and the last finished ones of each journey), recent messages with their delivery status',
        params: Params,
        response: { 200: Customer },
      },
    },
    async (request) => {
      const stored = await load(request.params.userId);
      const engagement = await readSendEngagement(engine.store.redis, engine.prefix, request.params.userId);
      // Opens and clicks belong to the entry of the send that went out, not to the notes that share
      // its operation id (a channel's "rerouted", each "delayed" while it was held), nor to an
      // outcome of nothing sent.
      // An entry of another shape (written by hand, or by a newer version) is left out rather
      // than failing the page; the export shows every entry as stored.
      const messages = stored.messages.flatMap((entry) => {
        const shown = handedOver(entry.status) ? { ...entry, ...engagement.get(String(entry.opId)) } : entry;
        const parsed = MessageEntry.safeParse(shown);
        return parsed.success ? [parsed.data] : [];
      });
      return {
        userId: request.params.userId,
        traits: stored.profile,
        journeys: stored.instances.map((i) => ({
          instanceId: i.id,
          journeyId: i.journeyId,
          version: i.journeyVersion,
          state: i.state,
          stage: i.stage,
          status: i.status,
          ...(i.exitReason ? { exitReason: i.exitReason } : {}),
          enteredAt: new Date(i.enteredAt).toISOString(),
          updatedAt: new Date(i.updatedAt).toISOString(),
        })),
        messages,
        consent: await engine.consent.store.all(request.params.userId),
        pendingEvents: stored.pendingEvents,
      };
    },
  );

  app.get(
    '/v1/customers/:userId/export',
    {
      schema: {
        tags: ['customers'],
        summary: 'Everything stored about a customer, as JSON (data subject access)',
        params: Params,
        response: { 200: z.record(z.string(), z.unknown()) },
      },
    },
    async (request) => {
      const userId = request.params.userId;
      const stored = await load(userId);
      // All of them: a data subject access answers with everything kept (`maxMessages` may be set high).
      const inApp = await readInAppInbox(engine.store.redis, engine.prefix, userId, Number.POSITIVE_INFINITY);
      const pruned = await engine.store.prunedCounts(userId);
      // The journeys they were in, also those whose finished instances were deleted: their logs
      // hold each conversion's time and revenue, which no instance keeps.
      const journeys = [...stored.instances.map((i) => i.journeyId), ...tallyDeltas(pruned).keys()];
      const consentLog = await engine.consent.store.historyList(userId);
      const engagement = await readEngagementList(engine.store.redis, engine.prefix, userId);
      const unreadable = {
        ...stored.unreadable,
        consent: consentLog.unreadable,
        engagement: engagement.unreadable,
      };
      return {
        userId,
        // The engine's time, as every other time in the export is.
        exportedAt: new Date(clock.now()).toISOString(),
        traits: stored.profile,
        journeyInstances: stored.instances,
        // Older finished instances are deleted; what they added to the journey counts is kept.
        deletedInstanceCounts: pruned,
        recentEvents: stored.recentEvents,
        pendingEvents: stored.pendingEvents,
        messages: stored.messages,
        conversions: await customerConversions(engine.store.redis, engine.prefix, userId, journeys),
        consent: consentLog.records,
        // The list is keyed by address: what it holds for the addresses the customer has now.
        suppressions: await engine.suppressions.entriesFor(addressesOf(stored.profile)),
        engagement: engagement.entries,
        // Per send (the last 500 engaged with): the first open, click, delivery, bounce and
        // complaint, and the clicks, kept after their events left the shorter list above.
        sendEngagement: Object.fromEntries(
          await readSendEngagement(engine.store.redis, engine.prefix, userId),
        ),
        inAppMessages: inApp,
        // Kept so a repeated send does not bring them back: stored about the customer, so listed.
        dismissedInAppMessages: await readDismissedInApp(engine.store.redis, engine.prefix, userId),
        unappliedEvents: stored.deadLetters,
        // Entries of the lists above that no longer read as JSON objects (cut short, edited by
        // hand), as stored: still data about the customer.
        ...(Object.values(unreadable).some((list) => list.length > 0)
          ? { unreadableEntries: unreadable }
          : {}),
      };
    },
  );

  app.delete(
    '/v1/customers/:userId',
    {
      schema: {
        tags: ['customers'],
        summary: 'Erase a customer: profile, journey instances, pending timers, queued messages, everything',
        params: Params,
        response: {
          200: z.object({
            erased: z.literal(true),
            keys: z.number(),
            jobsRemoved: z.number(),
            jobsRunning: z
              .number()
              .describe('jobs running at that moment; they end within the lock duration'),
            outboxFiles: z
              .number()
              .describe("files of the customer's messages deleted from the development outbox (OUTBOX_DIR)"),
          }),
        },
      },
    },
    async (request) => {
      const result = await engine.erase(request.params.userId);
      return { erased: true as const, ...result };
    },
  );
};
