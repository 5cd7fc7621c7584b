import { describe, expect, it } from 'vitest';
import { refusedAddress } from './ssrf-guard.ts';
import { claimRate } from './stock-watch.ts';

// Pure: which addresses a webhook may be sent to, and the stock alert's rate arithmetic.
describe('refusedAddress', () => {
  const strict = { allowLoopback: false };
  it.each([
    '10.0.0.1', '172.16.5.4', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0',
    '224.0.0.1', '255.255.255.255', 'fc00::1', 'fd12:3456::1', 'fe80::1', 'ff02::1', '::', '::ffff:10.0.0.1', '::ffff:169.254.169.254',
    // Documentation (TEST-NET) ranges: never a receiver on the internet, so only ever one on the service's own network.
    '192.0.2.1', '198.51.100.7', '203.0.113.9',
    // IPv6 forms that carry an IPv4 address: IPv4-compatible (::/96), IPv4-translated (::ffff:0:0:0/96),
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16), each of which can lead to an IPv4 address the guard refuses.
    '::a00:1', '::ffff:0:a00:1', '64:ff9b::a00:1', '2002:a00:1::1', '2001:db8::1', '100::1',
  ])('refuses %s, loopback allowed or not', (address) => {
    expect(refusedAddress(address, strict)).toBeDefined();
    expect(refusedAddress(address, { allowLoopback: true })).toBeDefined();
  });

  it.each(['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1'])('refuses loopback %s unless allowed', (address) => {
    expect(refusedAddress(address, strict)).toMatch(/loopback/);
    expect(refusedAddress(address, { allowLoopback: true })).toBeUndefined();
  });

  it.each(['93.184.215.14', '8.8.8.8', '172.32.0.1', '2606:4700:4700::1111', '::ffff:93.184.215.14'])('allows public %s', (address) => {
    expect(refusedAddress(address, strict)).toBeUndefined();
  });

  it('refuses what is not an address at all', () => {
    expect(refusedAddress('example.com', strict)).toMatch(/not an IP address/);
  });
});

describe('claimRate', () => {
  it('is claims per minute over the span seen in the last minute, with the run-out time at that pace', () => {
    const now = 1_000_000;
    const claims = [
      { at: now - 90_000, n: 50 }, // older than a minute: ignored
      { at: now - 30_000, n: 10 },
      { at: now - 10_000, n: 20 },
    ];
    const r = claimRate(claims, now, 60);
    expect(r.claimRatePerMinute).toBe(60); // 30 claims in 30 s
    expect(r.estimatedRunOutAt).toBe(new Date(now + 60_000).toISOString());
  });

  it('has no run-out time when nothing was claimed', () => {
    expect(claimRate([], 5000, 10)).toEqual({ claimRatePerMinute: 0, estimatedRunOutAt: undefined });
  });
});
