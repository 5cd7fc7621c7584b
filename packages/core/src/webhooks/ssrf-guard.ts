import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import ipaddr from 'ipaddr.js';

/**
 * Server-side request forgery guard: a webhook URL is the tenant's to choose,
 * so without this an admin could make the service call its own network
 * (metadata endpoints, private databases). The check runs at delivery time on
 * the addresses DNS answers, and the connection is made to the address that
 * was checked, so a name that resolves to a public address at creation and to
 * a private one later (DNS rebinding) is refused all the same.
 *
 * Which addresses are public is ipaddr.js's classification (the IANA special-
 * purpose registries), not ranges written here: only `unicast` is called.
 * Everything it names (private, loopback, link-local, carrier-grade NAT,
 * multicast, documentation and benchmarking ranges, NAT64, 6to4, Teredo, the
 * IPv4-translated and -mapped forms…) is refused, an IPv4-mapped IPv6 address
 * as the IPv4 address it is.
 */

/**
 * IPv4-compatible IPv6 addresses (::/96, RFC 4291, deprecated): ipaddr.js calls
 * them unicast, but they embed an IPv4 address that some stacks reach. No
 * receiver on the internet has one.
 */
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');

/** Why an address may not be called, or undefined when it may (for the guard's own use and tests: never shown to a tenant). */
export function refusedAddress(address: string, { allowLoopback }: { allowLoopback: boolean }): string | undefined {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  const parsed = ipaddr.process(address);
  const range = parsed.range();
  if (range === 'loopback' && allowLoopback) return undefined;
  if (range !== 'unicast') return `${address} is in the ${range} range`;
  if (parsed.kind() === 'ipv6' && parsed.match(IPV4_COMPATIBLE)) return `${address} is IPv4-compatible (::/96)`;
  return undefined;
}

export class RefusedTarget extends Error {
  override name = 'RefusedTarget';
  readonly code = 'EREFUSEDTARGET';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request: resolves as the system would, refuses when any
 * answer is forbidden, and hands the checked address to the socket. A name
 * that does not resolve is refused the same way as one that resolves to a
 * forbidden address, so the two cannot be told apart from outside.
 */
export function guardedLookup(options: { allowLoopback: boolean }) {
  return (hostname: string, opts: { all?: boolean; family?: number }, callback: LookupCallback) => {
    dnsLookup(hostname, { all: true, family: opts.family ?? 0 }, (err, addresses) => {
      if (err || !addresses.length) return callback(new RefusedTarget(`${hostname}: ${err?.code ?? 'no address'}`), '');
      const bad = addresses.map((a) => refusedAddress(a.address, options)).find(Boolean);
      if (bad) return callback(new RefusedTarget(`${hostname}: ${bad}`), '');
      if (opts.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}
