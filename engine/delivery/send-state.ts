import type { Channel } from '../journey/journey-schema.js';
import type { ConsentRecord } from '../policy/consent-record.js';
import { consentField, decodeConsent } from '../policy/consent-store.js';
import {
  parseSuppressionEntries,
  SuppressionReason,
  type SuppressionLookup,
} from '../policy/suppression-list.js';
import { ConsentChannel, type Topic } from '../policy/topic.js';
import type { RedisConnection } from '../redis/connection.js';
import { instanceField, type CustomerKeys } from '../store/customer-keys.js';
import { LuaScript } from '../store/lua-script.js';
import type { InstanceRecord } from '../runtime/instance-record.js';
import type { OperationRecord } from './delivery-ledger.js';

/**
 * What a send reads of the customer before deciding: its operation in the ledger, the traits,
 * and the consent record for the channel and topic. All three sit in the customer's slot, so
 * one script reads them in one round trip instead of three, at one instant. On a single Redis it
 * also reads the suppression list for the address the traits give, which saves the send another.
 */
export interface SendState {
  op: OperationRecord;
  traits: Record<string, unknown>;
  /** Undefined when the channel is not one consent speaks about (webhook). */
  consent: { record: ConsentRecord | undefined } | undefined;
  /** Undefined when it was not read ahead (a Redis Cluster, a channel without one, an address Lua cannot normalise). */
  suppression: SuppressionLookup | undefined;
  /**
   * The journey instance that made the send, once it has ended (`done`), or, for a send made with
   * `cancelOnGoal`, once it has converted; undefined otherwise (an active instance, the usual
   * case), and once deleted or erased.
   */
  instance: InstanceRecord | undefined;
}

/** The trait that holds a channel's suppressible address. */
const ADDRESS_TRAIT: Partial<Record<Channel, 'email' | 'phone' | 'pushToken'>> = {
  email: 'email',
  sms: 'phone',
  push: 'pushToken',
};

/**
 * KEYS: op key, customer state hash, consent hash, then the suppression list when it is read.
 * ARGV: consent field or '', the address trait or '', the instance's field of the state hash, '1'
 * when the send is cancelled on the goal (else ''), the suppression reasons.
 *
 * The address is normalised as `normaliseAddress` does (trimmed and lower-cased email, phone
 * without spaces, brackets, dots and dashes, trimmed push token), for ASCII only: Lua's case and
 * space rules are ASCII's, so any other address is left to the caller, as is an email whose
 * domain is an international one in ASCII form, whose older entries may be stored under its
 * Unicode form. The caller also uses the answer only if the address it resolves normalises to the
 * same string.
 */
const readScript = new LuaScript(`
local op = redis.call('HMGET', KEYS[1], 'state', 'route', 'maybe')
local consent = false
if ARGV[1] ~= '' then consent = redis.call('HGET', KEYS[3], ARGV[1]) end
local profile = redis.call('HGET', KEYS[2], 'profile')
-- Only an instance that ended is of use (see journey-exit.ts), or one that converted to a send
-- cancelled on the goal (journey-goal.ts): an active one, the usual case, is not sent back to be
-- parsed. Its fields are matched as JSON.stringify writes them; a context that happens to hold
-- the same text only sends it back, to be read properly.
local instance = redis.call('HGET', KEYS[2], ARGV[3])
if instance and not string.find(instance, '"status":"done"', 1, true)
  and not (ARGV[4] == '1' and string.find(instance, '"convertedAt":', 1, true)) then instance = false end
local suppression = false
if ARGV[2] ~= '' and profile then
  local ok, traits = pcall(cjson.decode, profile)
  local value = ok and type(traits) == 'table' and traits[ARGV[2]]
  -- An email's international domain in ASCII (xn--): entries stored before may be under its
  -- Unicode form, which the list's own check reads (legacyKeys in suppression-list.ts).
  if type(value) == 'string' and not string.find(value, '[\\128-\\255]')
    and not (ARGV[2] == 'email' and string.find(string.lower(value), 'xn--', 1, true)) then
    local address
    if ARGV[2] == 'email' then
      address = 'email:' .. string.lower(string.match(value, '^%s*(.-)%s*$'))
    elseif ARGV[2] == 'pushToken' then
      address = 'push:' .. string.match(value, '^%s*(.-)%s*$')
    else
      -- As compactPhoneNumber (phone-number.ts) strips them.
      address = 'phone:' .. (string.gsub(value, '[%s%(%)%.%-]', ''))
    end
    suppression = {address}
    for i = 5, #ARGV do suppression[i - 3] = redis.call('HGET', KEYS[4], address .. '|' .. ARGV[i]) end
  end
end
return {op[1], op[2], profile, consent, suppression, op[3], instance}
`);

export interface SendStateRead {
  opId: string;
  /** The journey instance that made the send, read with the rest. */
  instanceId: string;
  /** The send is cancelled on the goal: the instance is read once it converted, too. */
  cancelOnGoal?: boolean;
  channel: Channel;
  topic: Topic;
  /** The suppression list's key, to read it in the same script (single Redis only). */
  suppressionKey?: string;
}

export async function readSendState(
  redis: RedisConnection,
  keys: CustomerKeys,
  { opId, instanceId, cancelOnGoal, channel, topic, suppressionKey }: SendStateRead,
): Promise<SendState> {
  const consentChannel = ConsentChannel.safeParse(channel);
  const field = consentChannel.success ? consentField(consentChannel.data, topic) : '';
  const trait = suppressionKey === undefined ? undefined : ADDRESS_TRAIT[channel];
  const onGoal = cancelOnGoal === true ? '1' : '';
  const [state, route, profile, consent, suppression, maybe, instance] = (await readScript.run(
    redis,
    [keys.op(opId), keys.state, keys.consent, ...(trait ? [suppressionKey!] : [])],
    trait
      ? [field, trait, instanceField(instanceId), onGoal, ...SuppressionReason.options]
      : [field, '', instanceField(instanceId), onGoal],
  )) as [
    string | null,
    string | null,
    string | null,
    string | null,
    Array<string | null> | null,
    string | null,
    string | null | undefined,
  ];
  return {
    op: {
      state: (state ?? undefined) as OperationRecord['state'],
      route: (route ?? undefined) as Channel | undefined,
      mayHaveArrived: maybe !== null,
    },
    traits: profile ? (JSON.parse(profile) as Record<string, unknown>) : {},
    consent: consentChannel.success ? { record: decodeConsent(consent ?? null) } : undefined,
    suppression: suppression
      ? {
          list: suppressionKey!,
          address: suppression[0]!,
          entries: parseSuppressionEntries(suppression.slice(1)),
        }
      : undefined,
    instance: instance ? (JSON.parse(instance) as InstanceRecord) : undefined,
  };
}
