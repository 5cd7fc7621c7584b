import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Server-side request forgery guard: a webhook URL is the tenant's to choose,
 * so without this an admin could make the service call its own network
 * (metadata endpoints, private databases). The check runs at delivery time on
 * the addresses DNS answers, and the connection is made to the address that
 * was checked, so a name that resolves to a public address at creation and to
 * a private one later (DNS rebinding) is refused all the same.
 */
const forbidden = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['169.254.0.0', 16], // link-local, including the cloud metadata endpoint
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved and broadcast
] as const) {
  forbidden.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const) {
  forbidden.addSubnet(net, prefix, 'ipv6');
}
const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** Why an address may not be called, or undefined when it may. */
export function refusedAddress(address: string, { allowLoopback }: { allowLoopback: boolean }): string | undefined {
  const family = isIP(address);
  if (family === 0) return `${address} is not an IP address`;
  // An IPv4 address written as IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it is.
  const mapped = family === 6 ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] : undefined;
  const [addr, type] = mapped ? [mapped, 'ipv4' as const] : [address, family === 4 ? ('ipv4' as const) : ('ipv6' as const)];
  if (loopback.check(addr, type)) return allowLoopback ? undefined : `${address} is a loopback address`;
  if (forbidden.check(addr, type)) return `${address} is a private, link-local or reserved address`;
  return undefined;
}

export class RefusedTarget extends Error {
  override name = 'RefusedTarget';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request: resolves as the system would, refuses when any
 * answer is forbidden, and hands the checked address to the socket.
 */
export function guardedLookup(options: { allowLoopback: boolean }) {
  return (hostname: string, opts: { all?: boolean; family?: number }, callback: LookupCallback) => {
    dnsLookup(hostname, { all: true, family: opts.family ?? 0 }, (err, addresses) => {
      if (err) return callback(err, '');
      const bad = addresses.map((a) => refusedAddress(a.address, options)).find(Boolean);
      if (bad) return callback(Object.assign(new RefusedTarget(`${hostname}: ${bad}`), { code: 'EREFUSEDTARGET' }), '');
      if (opts.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}
