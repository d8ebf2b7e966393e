import { domainToASCII, domainToUnicode } from 'node:url';
import type { RedisConnection } from '../redis/connection.js';
import { z } from 'zod';
import { compactPhoneNumber } from '../channels/phone-number.js';
import type { Address } from '../channels/channel-adapter.js';
import type { Channel } from '../journey/journey-schema.js';
import { LuaScript } from '../store/lua-script.js';

/**
 * Why an address is suppressed. `unsubscribe` and `complaint` stop marketing only; a
 * `hard-bounce` means the address does not exist (for a push token: the app was uninstalled, FCM
 * no longer knows it), so nothing is sent to it, transactional messages included.
 */
export const SuppressionReason = z.enum(['unsubscribe', 'complaint', 'hard-bounce']);
export type SuppressionReason = z.infer<typeof SuppressionReason>;

/** An address as suppression knows it: an email address, a phone number or a push token. */
export type SuppressedAddress =
  { kind: 'email'; value: string } | { kind: 'phone'; value: string } | { kind: 'push'; value: string };

export const SuppressionEntry = z.object({
  reason: SuppressionReason,
  /** Epoch ms. */
  at: z.number().int().nonnegative(),
  /** What reported it: `one-click unsubscribe`, `delivery-events`, a provider name. */
  source: z.string().min(1).max(200),
  /**
   * Epoch ms until which it holds; unset, until lifted. For an answer the customer may take back
   * where Chorus does not hear of it (a STOP Twilio reported at send time: their START goes to
   * Twilio, and reaches Chorus only through the inbound webhook).
   */
  until: z.number().int().nonnegative().optional(),
});
export type SuppressionEntry = z.infer<typeof SuppressionEntry>;

/** The channels whose addresses suppression knows, each with the kind of address it sends to. */
export const SUPPRESSED_KIND = { email: 'email', sms: 'phone', push: 'push' } as const;
export type SuppressibleChannel = keyof typeof SUPPRESSED_KIND;

/** The address a send on the channel goes to, as the suppression list knows it; undefined for in-app and webhooks. */
export function suppressibleAddress(
  channel: Channel,
  address: Address | undefined,
): SuppressedAddress | undefined {
  if (channel === 'email' && address?.email) return { kind: SUPPRESSED_KIND.email, value: address.email };
  if (channel === 'sms' && address?.phone) return { kind: SUPPRESSED_KIND.sms, value: address.phone };
  if (channel === 'push' && address?.pushToken)
    return { kind: SUPPRESSED_KIND.push, value: address.pushToken };
  return undefined;
}

/**
 * Same address, same key: case and spacing of emails, punctuation of phone numbers do not count,
 * nor how an email's international domain is written (`bücher.de` and its ASCII form
 * `xn--bcher-kva.de` are one domain: providers report bounces in the form the mail went out in,
 * which nodemailer writes in ASCII). A push token is opaque: only the spaces around it are
 * dropped (delivery trims it too).
 */
export function normaliseAddress(address: SuppressedAddress): string {
  const value =
    address.kind === 'email'
      ? asciiDomain(address.value.trim().toLowerCase())
      : address.kind === 'phone'
        ? compactPhoneNumber(address.value)
        : address.value.trim();
  return `${address.kind}:${value}`;
}

/** An email address with its domain in ASCII (punycode) when it has any other character. */
function asciiDomain(email: string): string {
  const at = email.lastIndexOf('@');
  const domain = email.slice(at + 1);
  // ASCII domains are left as they are: the send state's Lua lower-cases them alone.
  if (at === -1 || /^\p{ASCII}*$/u.test(domain)) return email;
  const ascii = domainToASCII(domain);
  return ascii === '' ? email : `${email.slice(0, at + 1)}${ascii}`;
}

/**
 * The keys an email address's entries may have been stored under before international domains
 * were written in ASCII: the domain as the address was written, and in Unicode (an entry stored
 * for the customer's `bücher.de` is found when the address is given as `xn--bcher-kva.de`).
 */
function legacyKeys(address: SuppressedAddress, own: string): string[] {
  if (address.kind !== 'email') return [];
  const written = address.value.trim().toLowerCase();
  const at = own.lastIndexOf('@');
  const unicode = at === -1 ? '' : domainToUnicode(own.slice(at + 1));
  const forms = [`email:${written}`, ...(unicode === '' ? [] : [`${own.slice(0, at + 1)}${unicode}`])];
  return [...new Set(forms)].filter((key) => key !== own);
}

/** Every key the address's entries may be under: its own first, then those of before (legacyKeys). */
function keysOf(address: SuppressedAddress): string[] {
  const own = normaliseAddress(address);
  return [own, ...legacyKeys(address, own)];
}

/** The hash that holds the suppression list: `<normalised address>|<reason>` → JSON entry. */
export function suppressionListKey(prefix: string): string {
  return `${prefix}:suppressions`;
}

/** The hash fields of an address, one per reason, in `SuppressionReason` order. */
function suppressionFields(normalisedAddress: string): string[] {
  return SuppressionReason.options.map((reason) => `${normalisedAddress}|${reason}`);
}

/** Whether an entry holds at `now` (see SuppressionEntry.until). */
export const holdsAt = (entry: SuppressionEntry, now: number) =>
  entry.until === undefined || entry.until > now;

/** The entries among the values read for {@link suppressionFields} (null where none is stored). */
export function parseSuppressionEntries(values: ReadonlyArray<string | null>): SuppressionEntry[] {
  return values.flatMap((raw) => (raw === null ? [] : [SuppressionEntry.parse(JSON.parse(raw))]));
}

/**
 * What a list holds for one address, read ahead by a caller (the delivery worker reads it with
 * the customer's traits): `list` the list's key, `address` as {@link normaliseAddress} writes it.
 */
export interface SuppressionLookup {
  list: string;
  address: string;
  entries: readonly SuppressionEntry[];
}

/** KEYS: the list. ARGV: the entry's field, the time it must be older than. */
const liftOlderScript = new LuaScript(`
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local ok, entry = pcall(cjson.decode, raw)
if not ok or type(entry) ~= 'table' or type(entry.at) ~= 'number' or entry.at >= tonumber(ARGV[2]) then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
`);

/**
 * One suppression list for every channel and journey, keyed by address rather than customer: a
 * bounce report names an address, and two customers sharing one address share its fate. It is
 * kept when a customer is erased, as the law expects of an opt-out list.
 */
export class SuppressionList {
  readonly key: string;
  constructor(
    readonly redis: RedisConnection,
    prefix: string,
  ) {
    this.key = suppressionListKey(prefix);
  }

  /** Records one reason for the address; a later report of the same reason replaces the earlier. */
  async add(address: SuppressedAddress, entry: SuppressionEntry): Promise<void> {
    const checked = SuppressionEntry.parse(entry);
    await this.redis.hset(
      this.key,
      `${normaliseAddress(address)}|${checked.reason}`,
      JSON.stringify(checked),
    );
  }

  /** Every reason the address is suppressed for; empty when it is not. */
  async check(address: SuppressedAddress): Promise<SuppressionEntry[]> {
    const keys = keysOf(address);
    const values = await this.redis.hmget(this.key, ...keys.flatMap(suppressionFields));
    // A reason stored under several keys is told once: the current key's, else the first found.
    const perReason = SuppressionReason.options.length;
    return parseSuppressionEntries(
      SuppressionReason.options.map(
        (_, r) => keys.map((_key, k) => values[k * perReason + r] ?? null).find((v) => v !== null) ?? null,
      ),
    );
  }

  /**
   * What the list holds for each of the addresses, with the address it is for: a customer's
   * email address, phone number and push token, for the export of what is kept about them.
   */
  async entriesFor(
    addresses: readonly SuppressedAddress[],
  ): Promise<Array<SuppressionEntry & { kind: SuppressedAddress['kind']; address: string }>> {
    const found = await Promise.all(
      addresses.map(async (address) =>
        (await this.check(address)).map((entry) => ({
          kind: address.kind,
          address: address.value,
          ...entry,
        })),
      ),
    );
    return found.flat();
  }

  /**
   * Lifts the address's unsubscribe if it is older than `grantedAt`, in one script: an
   * unsubscribe given after the grant (a click racing the form) stays. Answers whether it lifted.
   */
  async liftUnsubscribeBefore(address: SuppressedAddress, grantedAt: number): Promise<boolean> {
    let lifted = false;
    for (const key of keysOf(address))
      if ((await liftOlderScript.run(this.redis, [this.key], [`${key}|unsubscribe`, grantedAt])) === 1)
        lifted = true;
    return lifted;
  }

  /** Lifts suppression of the address for one reason, or for all; returns how many were lifted. */
  async remove(address: SuppressedAddress, reason?: SuppressionReason): Promise<number> {
    const reasons = reason ? [reason] : SuppressionReason.options;
    const keys = keysOf(address);
    const fields = reasons.flatMap((r) => keys.map((key) => `${key}|${r}`));
    if (keys.length === 1) return this.redis.hdel(this.key, ...fields);
    // Counted per reason, as the caller named an address, not its keys: a reason under both is one.
    const held = await this.redis.hmget(this.key, ...fields);
    await this.redis.hdel(this.key, ...fields);
    return reasons.filter((_, r) => keys.some((_key, k) => held[r * keys.length + k] !== null)).length;
  }
}
