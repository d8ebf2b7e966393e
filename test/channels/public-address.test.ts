import { describe, expect, it } from 'vitest';
import { isPublicAddress } from '../../engine/channels/public-address.js';
import { checkWebhookTarget } from '../../engine/channels/target-guard.js';

/** [address, why it is refused] */
const refused: ReadonlyArray<readonly [string, string]> = [
  // IPv4
  ['0.0.0.0', 'this network'],
  ['0.1.2.3', 'this network'],
  ['10.255.0.1', 'private'],
  ['100.64.0.1', 'carrier-grade NAT'],
  ['127.0.0.2', 'loopback'],
  ['169.254.169.254', 'link-local (cloud metadata)'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['192.0.0.8', 'IETF protocol assignments'],
  ['192.0.2.10', 'documentation (TEST-NET-1)'],
  ['192.88.99.1', '6to4 relay anycast'],
  ['192.168.0.1', 'private'],
  ['198.18.0.1', 'benchmarking'],
  ['198.19.255.255', 'benchmarking'],
  ['198.51.100.7', 'documentation (TEST-NET-2)'],
  ['203.0.113.9', 'documentation (TEST-NET-3)'],
  ['224.0.0.251', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['240.0.0.1', 'reserved'],
  ['255.255.255.255', 'broadcast'],
  // IPv6 in itself
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['fc00::1', 'unique local'],
  ['fdff:ffff::1', 'unique local'],
  ['fe80::9', 'link-local'],
  ['fe80::1%eth0', 'link-local with a zone'],
  ['febf:ffff::1', 'link-local'],
  ['fec0::1', 'site-local'],
  ['ff02::1', 'multicast'],
  ['ff0e::101', 'multicast'],
  ['100::1', 'discard-only'],
  ['2001:db8::1', 'documentation'],
  ['3fff:abc::1', 'documentation (RFC 9637)'],
  ['2001:2::1', 'benchmarking'],
  ['2001:10::1', 'ORCHID'],
  ['2001:20::1', 'ORCHIDv2'],
  ['5f00::1', 'SRv6 SID'],
  ['2001::1', 'Teredo'],
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo (RFC 4380 example)'],
  ['64:ff9b:1::808:808', 'local-use NAT64, whatever it embeds'],
  // IPv6 carrying an IPv4 address that is itself refused
  ['::127.0.0.1', 'IPv4-compatible loopback'],
  ['::7f00:1', 'IPv4-compatible loopback, in hex'],
  ['::8.8.8.8', 'IPv4-compatible (deprecated), whatever it embeds'],
  ['::ffff:10.0.0.1', 'IPv4-mapped private'],
  ['::ffff:7f00:1', 'IPv4-mapped loopback, in hex'],
  ['::ffff:169.254.169.254', 'IPv4-mapped metadata'],
  ['::ffff:0:192.168.1.1', 'SIIT-translated private'],
  ['64:ff9b::127.0.0.1', 'NAT64 to loopback'],
  ['64:ff9b::a9fe:a9fe', 'NAT64 to the metadata service'],
  ['64:ff9b::c0a8:101', 'NAT64 to a private address'],
  ['2002:7f00:1::', '6to4 of loopback'],
  ['2002:c0a8:0101::1', '6to4 of a private address'],
  ['2002:a9fe:a9fe:1::1', '6to4 of the metadata service'],
  // Not IP addresses at all
  ['not-an-ip', 'not an address'],
  ['', 'empty'],
];

const allowed: ReadonlyArray<readonly [string, string]> = [
  ['8.8.8.8', 'public IPv4'],
  ['1.1.1.1', 'public IPv4'],
  ['172.32.0.1', 'just above 172.16.0.0/12'],
  ['100.128.0.1', 'just above carrier-grade NAT'],
  ['198.20.0.1', 'just above benchmarking'],
  ['223.255.255.255', 'just below multicast'],
  ['2606:4700:4700::1111', 'public IPv6'],
  ['2a00:1450:4001:81d::200e', 'public IPv6'],
  ['2001:4860:4860::8888', 'public IPv6 in 2000::/3, outside 2001::/32'],
  ['::ffff:8.8.8.8', 'IPv4-mapped public'],
  ['64:ff9b::808:808', 'NAT64 to a public address'],
  ['2002:808:808::1', '6to4 of a public address'],
];

describe('public addresses', () => {
  it.each(refused)('%s is refused: %s', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(allowed)('%s is public: %s', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });
});

describe('a webhook URL with an IPv6 literal', () => {
  it.each([
    ['http://[64:ff9b::7f00:1]:8080/hook', '64:ff9b::7f00:1'],
    ['https://[::ffff:127.0.0.1]/hook', '::ffff:7f00:1'],
    ['https://[2002:a9fe:a9fe::1]/hook', '2002:a9fe:a9fe::1'],
  ])('%s is refused without a DNS lookup', async (url, normalized) => {
    const check = await checkWebhookTarget(url, {
      allowPrivateTargets: false,
      timeoutMs: 100,
      lookup: () => Promise.reject(new Error('an IP literal needs no lookup')),
    });
    expect(check).toEqual({
      ok: false,
      status: 'failed',
      reason: expect.stringContaining(`resolves to ${normalized}, which is not a public address`),
    });
  });

  it('is let through when private targets are allowed', async () => {
    const check = await checkWebhookTarget('http://[::1]:8080/hook', {
      allowPrivateTargets: true,
      timeoutMs: 100,
    });
    expect(check).toMatchObject({ ok: true, target: { addresses: [{ address: '::1', family: 6 }] } });
  });
});
