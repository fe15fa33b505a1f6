/**
 * Which network addresses a destination or a source may make the platform call,
 * so that a URL in their config cannot become a server-side request forgery.
 *
 * Cloud metadata services and link-local addresses are refused always. Loopback
 * and private addresses (RFC 1918, CGNAT, unique-local IPv6, ...) are refused
 * unless `allowPrivate` (CDP_ALLOW_PRIVATE_DESTINATIONS, which covers sources too;
 * on by default outside production, where local mock servers are the norm). A URL is checked when it is
 * stored and again before each request, each time on its host and on every
 * address that host resolves to (`dns.lookup` with `all: true`). IPv4-mapped and -embedded
 * IPv6 forms are judged by the IPv4 address they carry; the URL parser already
 * turns decimal, octal and hexadecimal IPv4 spellings into dotted quads.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

export interface AddressPolicy {
  /** Loopback and private addresses are allowed (development, tests, private networks). */
  allowPrivate: boolean;
}

/** Without a configured policy (tests and benchmarks that build connector deps themselves): local mocks are reachable. */
export const UNCONFIGURED_ADDRESS_POLICY: AddressPolicy = { allowPrivate: true };

export type AddressClass = 'public' | 'private' | 'loopback' | 'linkLocal' | 'metadata';

/** Host names of metadata services, refused whatever they resolve to. */
const METADATA_HOSTS = new Set(['metadata.google.internal', 'metadata.goog', 'metadata', 'instance-data', 'instance-data.ec2.internal']);
const LOOPBACK_HOSTS = new Set(['localhost', 'localhost.localdomain', 'ip6-localhost', 'ip6-loopback']);

function blockList(v4: string[], v6: string[]): BlockList {
  const list = new BlockList();
  for (const cidr of v4) {
    const [network, prefix] = cidr.split('/');
    list.addSubnet(network!, Number(prefix), 'ipv4');
  }
  for (const cidr of v6) {
    const [network, prefix] = cidr.split('/');
    list.addSubnet(network!, Number(prefix), 'ipv6');
  }
  return list;
}

// AWS, GCP, Azure and Oracle answer on 169.254.169.254 (link-local, refused with its range); Alibaba on 100.100.100.200, AWS's IPv6 IMDS on fd00:ec2::254.
const METADATA = blockList(['100.100.100.200/32'], ['fd00:ec2::254/128']);
const LINK_LOCAL = blockList(['169.254.0.0/16'], ['fe80::/10']);
const LOOPBACK = blockList(['127.0.0.0/8', '0.0.0.0/8'], ['::1/128', '::/128']);
const PRIVATE = blockList(
  ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '192.0.0.0/24', '198.18.0.0/15', '224.0.0.0/4', '240.0.0.0/4'],
  ['fc00::/7', 'ff00::/8', '100::/64'],
);

/** The eight 16-bit groups of an IPv6 address (validated by isIP first; zone dropped). */
function ipv6Groups(address: string): number[] {
  let text = address.split('%')[0]!;
  // A dotted IPv4 tail (::ffff:169.254.169.254) becomes its two hexadecimal groups.
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const groups = (part: string) => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const [head, tail] = text.split('::') as [string, string | undefined];
  if (tail === undefined) return groups(head);
  const front = groups(head);
  const back = groups(tail);
  return [...front, ...Array<number>(8 - front.length - back.length).fill(0), ...back];
}

/** The IPv4 address an IPv6 one carries (mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64 64:ff9b::a.b.c.d). */
function embeddedIPv4(address: string): string | undefined {
  const groups = ipv6Groups(address);
  const zeroHead = groups.slice(0, 5).every((group) => group === 0);
  const mapped = zeroHead && groups[5] === 0xffff;
  const compatible = zeroHead && groups[5] === 0 && (groups[6] !== 0 || groups[7]! > 1);
  const nat64 = groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((group) => group === 0);
  if (!mapped && !compatible && !nat64) return undefined;
  return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
}

/** What kind of address an IP literal is. */
export function classifyAddress(raw: string): AddressClass {
  const address = raw.replace(/^\[|\]$/g, '');
  const family = isIP(address);
  if (family === 6) {
    const v4 = embeddedIPv4(address);
    if (v4) return classifyAddress(v4);
  }
  const type = family === 6 ? 'ipv6' : 'ipv4';
  if (METADATA.check(address, type)) return 'metadata';
  if (LINK_LOCAL.check(address, type)) return 'linkLocal';
  if (LOOPBACK.check(address, type)) return 'loopback';
  if (PRIVATE.check(address, type)) return 'private';
  return 'public';
}

/** Why an address or host is refused under the policy; undefined when it is allowed. */
function refusal(kind: AddressClass, policy: AddressPolicy): string | undefined {
  switch (kind) {
    case 'metadata':
      return 'a cloud metadata service';
    case 'linkLocal':
      return 'a link-local address';
    case 'loopback':
      return policy.allowPrivate ? undefined : 'a loopback address (allowed only with CDP_ALLOW_PRIVATE_DESTINATIONS=true)';
    case 'private':
      return policy.allowPrivate ? undefined : 'a private address (allowed only with CDP_ALLOW_PRIVATE_DESTINATIONS=true)';
    case 'public':
      return undefined;
  }
}

/** A URL's host as it will be resolved: lowercased, without brackets or trailing dots. */
function hostOf(url: URL): string {
  return url.hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.+$/, '');
}

/**
 * Judges what a URL names without resolving it: IP literals, metadata and
 * loopback names. Undefined when nothing in the URL itself is refused.
 */
export function refusedHost(url: URL, policy: AddressPolicy): string | undefined {
  const host = hostOf(url);
  if (METADATA_HOSTS.has(host)) return 'a cloud metadata service';
  if (LOOPBACK_HOSTS.has(host) || host.endsWith('.localhost')) return refusal('loopback', policy);
  return isIP(host) ? refusal(classifyAddress(host), policy) : undefined;
}

export type Lookup = (host: string) => Promise<Array<{ address: string }>>;

export const systemLookup: Lookup = (host) => dnsLookup(host, { all: true, verbatim: true });

/**
 * `lookup` answering no addresses once `timeoutMs` has passed: a slow resolver
 * must not hold up storing a config, and the host is judged again before each request.
 */
export function lookupWithin(lookup: Lookup, timeoutMs: number): Lookup {
  return (host) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve([]), timeoutMs);
      timer.unref();
      lookup(host).then(
        (addresses) => {
          clearTimeout(timer);
          resolve(addresses);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
}

/**
 * Judges a URL and every address its host resolves to. A host that does not
 * resolve is not refused here (the request fails on its own).
 */
export async function refusedDestination(url: URL, policy: AddressPolicy, lookup: Lookup = systemLookup): Promise<string | undefined> {
  const literal = refusedHost(url, policy);
  if (literal) return literal;
  const host = hostOf(url);
  if (isIP(host)) return undefined;
  let addresses: Array<{ address: string }>;
  try {
    addresses = await lookup(host);
  } catch {
    return undefined;
  }
  for (const { address } of addresses) {
    const why = refusal(classifyAddress(address), policy);
    if (why) return `${why}, which ${host} resolves to`;
  }
  return undefined;
}
