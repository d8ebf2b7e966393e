import type { Channel } from '../journey/journey-schema.js';
import type { ConsentRecord } from '../policy/consent-record.js';
import { consentField, decodeConsent } from '../policy/consent-store.js';
import { ConsentChannel, type Topic } from '../policy/topic.js';
import type { RedisConnection } from '../redis/connection.js';
import type { CustomerKeys } from '../store/customer-keys.js';
import { LuaScript } from '../store/lua-script.js';
import type { OperationRecord } from './delivery-ledger.js';

/**
 * What a send reads of the customer before deciding: its operation in the ledger, the traits,
 * and the consent record for the channel and topic. All three sit in the customer's slot, so
 * one script reads them in one round trip instead of three, at one instant.
 */
export interface SendState {
  op: OperationRecord;
  traits: Record<string, unknown>;
  /** Undefined when the channel is not one consent speaks about (webhook). */
  consent: { record: ConsentRecord | undefined } | undefined;
}

/** KEYS: op key, customer state hash, consent hash. ARGV: consent field, or '' for none. */
const readScript = new LuaScript(`
local op = redis.call('HMGET', KEYS[1], 'state', 'route')
local consent = false
if ARGV[1] ~= '' then consent = redis.call('HGET', KEYS[3], ARGV[1]) end
return {op[1], op[2], redis.call('HGET', KEYS[2], 'profile'), consent}
`);

export async function readSendState(
  redis: RedisConnection,
  keys: CustomerKeys,
  opId: string,
  channel: Channel,
  topic: Topic,
): Promise<SendState> {
  const consentChannel = ConsentChannel.safeParse(channel);
  const field = consentChannel.success ? consentField(consentChannel.data, topic) : '';
  const [state, route, profile, consent] = (await readScript.run(
    redis,
    [keys.op(opId), keys.state, keys.consent],
    [field],
  )) as Array<string | null>;
  return {
    op: {
      state: (state ?? undefined) as OperationRecord['state'],
      route: (route ?? undefined) as Channel | undefined,
    },
    traits: profile ? (JSON.parse(profile) as Record<string, unknown>) : {},
    consent: consentChannel.success ? { record: decodeConsent(consent ?? null) } : undefined,
  };
}
