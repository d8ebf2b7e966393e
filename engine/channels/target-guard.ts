import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { describeError } from './http-result.js';
import { isPublicAddress } from './public-address.js';

/** Resolves a host name to all its addresses, like `dns.promises.lookup(host, { all: true })`. */
export type LookupAll = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

/** One address a host resolved to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/**
 * A webhook target checked and pinned: connect to `addresses` (each one checked, in the order
 * the resolver gave them), never re-resolve `url.hostname`.
 */
export interface CheckedTarget {
  url: URL;
  addresses: readonly [ResolvedAddress, ...ResolvedAddress[]];
}

export type TargetCheck =
  { ok: true; target: CheckedTarget } | { ok: false; status: 'failed' | 'retry'; reason: string };

/**
 * Checks a webhook URL before anything is sent: http(s) only, and, unless `allowPrivateTargets`,
 * every address the host resolves to must be public (one private answer is enough to refuse:
 * the connection could land on it). The caller connects to the returned addresses, so a second
 * DNS answer (rebinding) cannot redirect the request after the check.
 */
export async function checkWebhookTarget(
  raw: string | undefined,
  options: { allowPrivateTargets: boolean; lookup?: LookupAll; timeoutMs: number },
): Promise<TargetCheck> {
  if (!raw) return { ok: false, status: 'failed', reason: 'the customer has no webhook URL' };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, status: 'failed', reason: `the webhook URL "${raw.slice(0, 200)}" is not a URL` };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { ok: false, status: 'failed', reason: `webhook URLs must be http(s), not ${url.protocol}` };
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: Array<{ address: string; family: number }>;
  if (isIP(host) !== 0) {
    addresses = [{ address: host, family: isIP(host) }];
  } else {
    try {
      addresses = await withDeadline(
        (options.lookup ?? lookupAll)(host),
        options.timeoutMs,
        `resolving ${host}`,
      );
    } catch (error) {
      return {
        ok: false,
        status: 'retry',
        reason: `could not resolve webhook host ${host}: ${describeError(error)}`,
      };
    }
  }
  const first = addresses[0];
  if (!first) return { ok: false, status: 'retry', reason: `webhook host ${host} resolved to no address` };
  if (!options.allowPrivateTargets) {
    const refused = addresses.find(({ address }) => !isPublicAddress(address));
    if (refused) {
      return {
        ok: false,
        status: 'failed',
        reason:
          `refused webhook target ${url.origin}: ${host} resolves to ${refused.address}, which is not a public ` +
          'address (loopback, private, link-local or reserved); set allowPrivateTargets to allow it',
      };
    }
  }
  // All of them, as any client tries the next when one cannot be reached (a dual-stack receiver
  // seen from a network whose IPv6 route is broken): each passed the check above.
  const resolved = ({ address, family }: { address: string; family: number }): ResolvedAddress => ({
    address,
    family: family === 6 ? 6 : 4,
  });
  return { ok: true, target: { url, addresses: [resolved(first), ...addresses.slice(1).map(resolved)] } };
}

const lookupAll: LookupAll = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** getaddrinfo can stall for many seconds per attempt: bound it like the request itself. */
async function withDeadline<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
