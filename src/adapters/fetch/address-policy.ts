import ipaddr from 'ipaddr.js';

/**
 * Which IP addresses Trove's server-side fetcher may contact. Pure: no DNS, no I/O.
 *
 * Every special-purpose range falls in one of two families:
 *  - internal ranges (loopback, RFC 1918, unique-local, link-local, CGNAT, benchmarking): real hosts
 *    on the operator's own network. Forbidden in production; allowed when `allowPrivate` is set, so
 *    development and tests can fetch from servers on the same machine or LAN.
 *  - ranges that are never a legitimate fetch target (unspecified, broadcast, multicast, reserved,
 *    documentation, IETF protocol assignments, Teredo, deprecated IPv4-compatible, cloud metadata
 *    endpoints): forbidden in every mode. Cloud metadata sits inside link-local/unique-local/CGNAT
 *    space but hands out credentials, so `allowPrivate` never opens it.
 * Addresses that embed an IPv4 address (IPv4-mapped, NAT64, 6to4) are judged by the embedded address,
 * because that is where the packets end up.
 */

export interface AddressPolicyOptions {
  /** Allow the internal ranges (loopback, private, link-local, CGNAT...). Development and tests only. */
  allowPrivate: boolean;
}

export type AddressCategory =
  | 'public'
  | 'invalid'
  | 'cloud-metadata'
  | 'unspecified'
  | 'broadcast'
  | 'loopback'
  | 'private'
  | 'carrier-grade-nat'
  | 'link-local'
  | 'site-local'
  | 'benchmarking'
  | 'local-nat64'
  | 'documentation'
  | 'protocol-assignment'
  | 'multicast'
  | 'reserved'
  | 'ipv4-compatible'
  | 'teredo'
  | 'discard'
  | 'non-global';

interface AddressVerdict {
  forbidden: boolean;
  category: AddressCategory;
  /** Canonical form of the address that was judged, or the input when it is not an IP address. */
  address: string;
  /** Why the address is forbidden; present only when `forbidden` is true. */
  reason?: string;
}

type Family = 'internal' | 'never';

interface RangeRule {
  cidr: string;
  category: AddressCategory;
  family: Family;
  description: string;
}

const CLOUD_METADATA_ADDRESSES: ReadonlyArray<{ address: string; description: string }> = [
  { address: '169.254.169.254', description: 'cloud instance metadata (AWS, GCP, Azure, OpenStack...)' },
  { address: '169.254.170.2', description: 'AWS ECS task metadata' },
  { address: '169.254.170.23', description: 'AWS EKS pod identity agent' },
  { address: '100.100.100.200', description: 'Alibaba Cloud instance metadata' },
  { address: '192.0.0.192', description: 'Oracle Cloud instance metadata' },
  { address: 'fd00:ec2::254', description: 'AWS instance metadata over IPv6' },
  { address: 'fd00:ec2::23', description: 'AWS EKS pod identity agent over IPv6' },
];

const IPV4_RULES: readonly RangeRule[] = [
  { cidr: '0.0.0.0/8', category: 'unspecified', family: 'never', description: '"this network" 0.0.0.0/8' },
  { cidr: '255.255.255.255/32', category: 'broadcast', family: 'never', description: 'limited broadcast' },
  { cidr: '127.0.0.0/8', category: 'loopback', family: 'internal', description: 'loopback 127.0.0.0/8' },
  { cidr: '10.0.0.0/8', category: 'private', family: 'internal', description: 'private 10.0.0.0/8' },
  { cidr: '172.16.0.0/12', category: 'private', family: 'internal', description: 'private 172.16.0.0/12' },
  { cidr: '192.168.0.0/16', category: 'private', family: 'internal', description: 'private 192.168.0.0/16' },
  { cidr: '100.64.0.0/10', category: 'carrier-grade-nat', family: 'internal', description: 'carrier-grade NAT 100.64.0.0/10' },
  { cidr: '169.254.0.0/16', category: 'link-local', family: 'internal', description: 'link-local 169.254.0.0/16' },
  // Lab networks; also where "fake-IP" DNS proxies on developer machines answer.
  { cidr: '198.18.0.0/15', category: 'benchmarking', family: 'internal', description: 'benchmarking 198.18.0.0/15' },
  { cidr: '192.0.0.0/24', category: 'protocol-assignment', family: 'never', description: 'IETF protocol assignments 192.0.0.0/24' },
  { cidr: '192.0.2.0/24', category: 'documentation', family: 'never', description: 'documentation TEST-NET-1 192.0.2.0/24' },
  { cidr: '198.51.100.0/24', category: 'documentation', family: 'never', description: 'documentation TEST-NET-2 198.51.100.0/24' },
  { cidr: '203.0.113.0/24', category: 'documentation', family: 'never', description: 'documentation TEST-NET-3 203.0.113.0/24' },
  { cidr: '192.88.99.0/24', category: 'reserved', family: 'never', description: 'deprecated 6to4 relay anycast 192.88.99.0/24' },
  { cidr: '224.0.0.0/4', category: 'multicast', family: 'never', description: 'multicast 224.0.0.0/4' },
  { cidr: '240.0.0.0/4', category: 'reserved', family: 'never', description: 'reserved 240.0.0.0/4' },
];

// Ranges that embed an IPv4 address are handled before these rules (see embeddedIpv4).
const IPV6_RULES: readonly RangeRule[] = [
  { cidr: '::/128', category: 'unspecified', family: 'never', description: 'unspecified ::' },
  { cidr: '::1/128', category: 'loopback', family: 'internal', description: 'loopback ::1' },
  // Deprecated (RFC 4291); no stack should route these, so nothing legitimate lives there.
  { cidr: '::/96', category: 'ipv4-compatible', family: 'never', description: 'deprecated IPv4-compatible ::/96' },
  { cidr: '64:ff9b:1::/48', category: 'local-nat64', family: 'internal', description: 'local-use NAT64 64:ff9b:1::/48' },
  { cidr: '100::/64', category: 'discard', family: 'never', description: 'discard-only 100::/64' },
  { cidr: '2001::/32', category: 'teredo', family: 'never', description: 'Teredo tunnelling 2001::/32' },
  { cidr: '2001:2::/48', category: 'benchmarking', family: 'internal', description: 'benchmarking 2001:2::/48' },
  { cidr: '2001::/23', category: 'protocol-assignment', family: 'never', description: 'IETF protocol assignments 2001::/23' },
  { cidr: '2001:db8::/32', category: 'documentation', family: 'never', description: 'documentation 2001:db8::/32' },
  { cidr: '3fff::/20', category: 'documentation', family: 'never', description: 'documentation 3fff::/20' },
  { cidr: 'fc00::/7', category: 'private', family: 'internal', description: 'unique-local fc00::/7' },
  { cidr: 'fe80::/10', category: 'link-local', family: 'internal', description: 'link-local fe80::/10' },
  { cidr: 'fec0::/10', category: 'site-local', family: 'internal', description: 'deprecated site-local fec0::/10' },
  { cidr: 'ff00::/8', category: 'multicast', family: 'never', description: 'multicast ff00::/8' },
];

// Outside 2000::/3 nothing is allocated for public unicast; unknown special ranges fail closed.
const IPV6_GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR('2000::/3');

interface ParsedRule<T> extends RangeRule {
  range: [T, number];
}

const PARSED_IPV4_RULES: ReadonlyArray<ParsedRule<ipaddr.IPv4>> = IPV4_RULES.map((rule) => ({
  ...rule,
  range: ipaddr.IPv4.parseCIDR(rule.cidr),
}));

const PARSED_IPV6_RULES: ReadonlyArray<ParsedRule<ipaddr.IPv6>> = IPV6_RULES.map((rule) => ({
  ...rule,
  range: ipaddr.IPv6.parseCIDR(rule.cidr),
}));

const METADATA_BY_ADDRESS: ReadonlyMap<string, string> = new Map(
  CLOUD_METADATA_ADDRESSES.map(({ address, description }) => [ipaddr.parse(address).toString(), description]),
);

const DEFAULT_OPTIONS: AddressPolicyOptions = { allowPrivate: false };

/**
 * Decide whether `ip` may be contacted. Accepts dotted-quad IPv4, IPv6 (optionally in brackets,
 * optionally with a zone), and the legacy numeric IPv4 spellings a URL host may use (`2130706433`,
 * `0x7f.1`, `017700000001`), read exactly as the WHATWG URL parser reads them. Anything else is not an
 * IP address and is forbidden, so a caller that forgets to resolve a hostname fails closed.
 */
export function classifyAddress(ip: string, options: AddressPolicyOptions = DEFAULT_OPTIONS): AddressVerdict {
  const parsed = parseIpAddress(ip);
  if (parsed === null) {
    return { forbidden: true, category: 'invalid', address: ip, reason: `"${ip}" is not an IP address` };
  }
  return parsed.kind() === 'ipv4'
    ? classifyIpv4(parsed as ipaddr.IPv4, options)
    : classifyIpv6(parsed as ipaddr.IPv6, options);
}

/**
 * The canonical IP address a URL hostname (as `new URL(...).hostname` gives it) names, or null when
 * the hostname is a DNS name that has to be resolved.
 */
export function ipLiteralOfHostname(hostname: string): string | null {
  const parsed = parseIpAddress(hostname);
  return parsed === null ? null : parsed.toString();
}

const LEGACY_NUMERIC_IPV4 = /^[0-9a-fA-FxX.]+$/;
const IPV6_TEXT = /^[0-9a-fA-F:.]+$/;

// Both families go through the WHATWG host parser, so this check and `new URL` can never read the same
// text as two different addresses (ipaddr.js alone reads `::127.0.0.1` as IPv4-mapped, for one).
function parseIpAddress(input: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const bracketed = input.startsWith('[') && input.endsWith(']');
  const unbracketed = bracketed ? input.slice(1, -1) : input;
  // A zone only picks an interface; the address itself is what gets judged.
  const zoneAt = unbracketed.indexOf('%');
  const withoutZone = zoneAt === -1 ? unbracketed : unbracketed.slice(0, zoneAt);

  if (bracketed || withoutZone.includes(':')) {
    if (!IPV6_TEXT.test(withoutZone)) return null;
    const host = whatwgHost(`[${withoutZone}]`);
    if (host === null || !host.startsWith('[') || !host.endsWith(']')) return null;
    const canonical = host.slice(1, -1);
    return ipaddr.IPv6.isValid(canonical) ? ipaddr.IPv6.parse(canonical) : null;
  }
  if (zoneAt !== -1 || !LEGACY_NUMERIC_IPV4.test(withoutZone)) return null;
  const host = whatwgHost(withoutZone);
  return host !== null && ipaddr.IPv4.isValidFourPartDecimal(host) ? ipaddr.IPv4.parse(host) : null;
}

function whatwgHost(candidate: string): string | null {
  try {
    return new URL(`http://${candidate}/`).hostname;
  } catch {
    return null;
  }
}

function classifyIpv4(address: ipaddr.IPv4, options: AddressPolicyOptions): AddressVerdict {
  const text = address.toString();
  const metadata = METADATA_BY_ADDRESS.get(text);
  if (metadata !== undefined) {
    return { forbidden: true, category: 'cloud-metadata', address: text, reason: `${text} is ${metadata}` };
  }
  const rule = PARSED_IPV4_RULES.find((candidate) => address.match(candidate.range));
  return rule === undefined ? allowed(text, 'public') : judge(text, rule, options);
}

function classifyIpv6(address: ipaddr.IPv6, options: AddressPolicyOptions): AddressVerdict {
  const text = address.toString();
  const metadata = METADATA_BY_ADDRESS.get(text);
  if (metadata !== undefined) {
    return { forbidden: true, category: 'cloud-metadata', address: text, reason: `${text} is ${metadata}` };
  }

  const embedded = embeddedIpv4(address);
  if (embedded !== null) {
    const inner = classifyIpv4(embedded.ipv4, options);
    if (!inner.forbidden) return { ...inner, address: text };
    return {
      forbidden: true,
      category: inner.category,
      address: text,
      reason: `${text} is ${embedded.mechanism} embedding ${inner.address}: ${inner.reason ?? inner.category}`,
    };
  }

  const rule = PARSED_IPV6_RULES.find((candidate) => address.match(candidate.range));
  if (rule !== undefined) return judge(text, rule, options);
  if (!address.match(IPV6_GLOBAL_UNICAST)) {
    return {
      forbidden: true,
      category: 'non-global',
      address: text,
      reason: `${text} is outside the global unicast space 2000::/3`,
    };
  }
  return allowed(text, 'public');
}

interface EmbeddedIpv4 {
  ipv4: ipaddr.IPv4;
  mechanism: string;
}

const IPV4_MAPPED = ipaddr.IPv6.parseCIDR('::ffff:0:0/96');
const IPV4_TRANSLATED = ipaddr.IPv6.parseCIDR('::ffff:0:0:0/96');
const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR('64:ff9b::/96');
const SIX_TO_FOUR = ipaddr.IPv6.parseCIDR('2002::/16');

function embeddedIpv4(address: ipaddr.IPv6): EmbeddedIpv4 | null {
  const parts = address.parts;
  const fromParts = (high: number | undefined, low: number | undefined): ipaddr.IPv4 =>
    new ipaddr.IPv4([((high ?? 0) >> 8) & 0xff, (high ?? 0) & 0xff, ((low ?? 0) >> 8) & 0xff, (low ?? 0) & 0xff]);

  if (address.match(IPV4_MAPPED)) return { ipv4: fromParts(parts[6], parts[7]), mechanism: 'IPv4-mapped' };
  if (address.match(IPV4_TRANSLATED)) return { ipv4: fromParts(parts[6], parts[7]), mechanism: 'IPv4-translated' };
  if (address.match(NAT64_WELL_KNOWN)) return { ipv4: fromParts(parts[6], parts[7]), mechanism: 'NAT64' };
  // 6to4 puts the IPv4 address right after the 2002::/16 prefix.
  if (address.match(SIX_TO_FOUR)) return { ipv4: fromParts(parts[1], parts[2]), mechanism: '6to4' };
  return null;
}

function judge(address: string, rule: RangeRule, options: AddressPolicyOptions): AddressVerdict {
  if (rule.family === 'internal' && options.allowPrivate) return allowed(address, rule.category);
  const hint = rule.family === 'internal' ? ' (private addresses are not allowed)' : '';
  return { forbidden: true, category: rule.category, address, reason: `${address} is ${rule.description}${hint}` };
}

function allowed(address: string, category: AddressCategory): AddressVerdict {
  return { forbidden: false, category, address };
}
