import { BlockList, isIP } from 'node:net';

/**
 * IPv4 ranges a webhook must not reach (IANA special-purpose registry, RFC 6890 and successors):
 * "this network", private, carrier-grade NAT, loopback, link-local (cloud metadata at
 * 169.254.169.254), IETF protocol assignments, documentation, the 6to4 relay anycast,
 * benchmarking, multicast, reserved and broadcast.
 */
const IPV4_BLOCKED = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.88.99.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
] as const;

/**
 * IPv6 ranges refused whatever they carry. `::/96` holds the unspecified address, loopback and
 * the deprecated IPv4-compatible addresses; Teredo (`2001::/32`) hides its client's IPv4 address
 * obfuscated and is refused outright, as is the local-use NAT64 prefix, whose IPv4 mapping is
 * whatever the local network chose.
 */
const IPV6_BLOCKED = [
  '::/96', // unspecified, loopback, IPv4-compatible (deprecated)
  '64:ff9b:1::/48', // local-use NAT64 (RFC 8215)
  '100::/64', // discard-only
  '2001::/32', // Teredo
  '2001:2::/48', // benchmarking
  '2001:10::/28', // ORCHID (deprecated)
  '2001:20::/28', // ORCHIDv2: identifiers, not locators
  '2001:db8::/32', // documentation
  '3fff::/20', // documentation (RFC 9637)
  '5f00::/16', // SRv6 SIDs (RFC 9602)
  'fc00::/7', // unique local
  'fe80::/10', // link-local
  'fec0::/10', // site-local (deprecated)
  'ff00::/8', // multicast
] as const;

const blockedV4 = blockList(IPV4_BLOCKED, 'ipv4');
const blockedV6 = blockList(IPV6_BLOCKED, 'ipv6');

function blockList(subnets: readonly string[], type: 'ipv4' | 'ipv6'): BlockList {
  const list = new BlockList();
  for (const subnet of subnets) {
    const [network, prefix] = subnet.split('/') as [string, string];
    list.addSubnet(network, Number(prefix), type);
  }
  return list;
}

/**
 * Whether an IP address is on the public internet (not loopback, private, link-local, …).
 * IPv6 addresses that embed an IPv4 one and reach it through translation or tunnelling
 * (IPv4-mapped `::ffff:0:0/96`, SIIT `::ffff:0:0:0/96`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`)
 * are judged by the IPv4 address they carry: `64:ff9b::a9fe:a9fe` is the metadata service.
 *
 * @example
 * ```ts
 * isPublicAddress('93.184.215.14'); // true
 * isPublicAddress('::ffff:10.0.0.1'); // false
 * isPublicAddress('2002:c0a8:0101::1'); // false: 6to4 for 192.168.1.1
 * ```
 */
export function isPublicAddress(address: string): boolean {
  // A zone (`fe80::1%eth0`) names an interface, not a different address.
  const bare = address.replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return !blockedV4.check(bare, 'ipv4');
  if (family !== 6) return false;
  if (blockedV6.check(bare, 'ipv6')) return false;
  const embedded = embeddedIPv4(ipv6Bytes(bare));
  return embedded === undefined || !blockedV4.check(embedded, 'ipv4');
}

/** The IPv4 address a translated or tunnelled IPv6 address leads to, if it is one. */
function embeddedIPv4(bytes: Uint8Array): string | undefined {
  const zeros = (from: number, to: number) => bytes.subarray(from, to).every((byte) => byte === 0);
  const dotted = (at: number) => Array.from(bytes.subarray(at, at + 4)).join('.');
  const word = (at: number) => ((bytes[at] ?? 0) << 8) | (bytes[at + 1] ?? 0);
  // ::ffff:a.b.c.d (IPv4-mapped)
  if (zeros(0, 10) && word(10) === 0xffff) return dotted(12);
  // ::ffff:0:a.b.c.d (SIIT, RFC 2765)
  if (zeros(0, 8) && word(8) === 0xffff && zeros(10, 12)) return dotted(12);
  // 64:ff9b::a.b.c.d (NAT64 well-known prefix, RFC 6052)
  if (word(0) === 0x64 && word(2) === 0xff9b && zeros(4, 12)) return dotted(12);
  // 2002:AABB:CCDD::/48 (6to4, RFC 3056)
  if (word(0) === 0x2002) return dotted(2);
  return undefined;
}

/** The 16 bytes of a valid IPv6 address, with `::` expanded and a dotted IPv4 tail read. */
function ipv6Bytes(address: string): Uint8Array {
  let text = address;
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (tail) {
    const [a, b, c, d] = tail.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = rest ? rest.split(':') : [];
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    const value = parseInt(group, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  });
  return bytes;
}
