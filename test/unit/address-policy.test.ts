import { describe, expect, it } from 'vitest';
import { classifyAddress, ipLiteralOfHostname, type AddressCategory } from '../../src/adapters/fetch/address-policy.js';

const PRODUCTION = { allowPrivate: false };
const DEVELOPMENT = { allowPrivate: true };

interface Case {
  address: string;
  category: AddressCategory;
  /** Allowed when allowPrivate is true (internal ranges); production refuses everything not public. */
  allowedInDevelopment: boolean;
}

const publicCases: Case[] = [
  { address: '8.8.8.8', category: 'public', allowedInDevelopment: true },
  { address: '1.1.1.1', category: 'public', allowedInDevelopment: true },
  { address: '93.184.216.34', category: 'public', allowedInDevelopment: true },
  { address: '172.15.255.255', category: 'public', allowedInDevelopment: true },
  { address: '172.32.0.0', category: 'public', allowedInDevelopment: true },
  { address: '100.63.255.255', category: 'public', allowedInDevelopment: true },
  { address: '100.128.0.0', category: 'public', allowedInDevelopment: true },
  { address: '169.253.255.255', category: 'public', allowedInDevelopment: true },
  { address: '198.17.255.255', category: 'public', allowedInDevelopment: true },
  { address: '223.255.255.255', category: 'public', allowedInDevelopment: true },
  { address: '2606:4700:4700::1111', category: 'public', allowedInDevelopment: true },
  { address: '2a00:1450:4001:80b::200e', category: 'public', allowedInDevelopment: true },
  { address: '::ffff:8.8.8.8', category: 'public', allowedInDevelopment: true },
  { address: '64:ff9b::808:808', category: 'public', allowedInDevelopment: true },
  { address: '2002:808:808::1', category: 'public', allowedInDevelopment: true },
];

const internalCases: Case[] = [
  { address: '127.0.0.1', category: 'loopback', allowedInDevelopment: true },
  { address: '127.255.255.254', category: 'loopback', allowedInDevelopment: true },
  { address: '::1', category: 'loopback', allowedInDevelopment: true },
  { address: '10.0.0.1', category: 'private', allowedInDevelopment: true },
  { address: '10.255.255.255', category: 'private', allowedInDevelopment: true },
  { address: '172.16.0.1', category: 'private', allowedInDevelopment: true },
  { address: '172.31.255.255', category: 'private', allowedInDevelopment: true },
  { address: '192.168.1.1', category: 'private', allowedInDevelopment: true },
  { address: 'fc00::1', category: 'private', allowedInDevelopment: true },
  { address: 'fd12:3456:789a::1', category: 'private', allowedInDevelopment: true },
  { address: '100.64.0.1', category: 'carrier-grade-nat', allowedInDevelopment: true },
  { address: '100.127.255.255', category: 'carrier-grade-nat', allowedInDevelopment: true },
  { address: '169.254.1.1', category: 'link-local', allowedInDevelopment: true },
  { address: 'fe80::1', category: 'link-local', allowedInDevelopment: true },
  { address: 'fe80::1%eth0', category: 'link-local', allowedInDevelopment: true },
  { address: 'febf::1', category: 'link-local', allowedInDevelopment: true },
  { address: 'fec0::1', category: 'site-local', allowedInDevelopment: true },
  { address: '198.18.0.1', category: 'benchmarking', allowedInDevelopment: true },
  { address: '198.19.255.255', category: 'benchmarking', allowedInDevelopment: true },
  { address: '2001:2::1', category: 'benchmarking', allowedInDevelopment: true },
  { address: '64:ff9b:1::a00:1', category: 'local-nat64', allowedInDevelopment: true },
];

const alwaysForbiddenCases: Case[] = [
  { address: '0.0.0.0', category: 'unspecified', allowedInDevelopment: false },
  { address: '0.1.2.3', category: 'unspecified', allowedInDevelopment: false },
  { address: '::', category: 'unspecified', allowedInDevelopment: false },
  { address: '255.255.255.255', category: 'broadcast', allowedInDevelopment: false },
  { address: '224.0.0.1', category: 'multicast', allowedInDevelopment: false },
  { address: '239.255.255.250', category: 'multicast', allowedInDevelopment: false },
  { address: 'ff02::1', category: 'multicast', allowedInDevelopment: false },
  { address: 'ff05::1:3', category: 'multicast', allowedInDevelopment: false },
  { address: '240.0.0.1', category: 'reserved', allowedInDevelopment: false },
  { address: '255.255.255.254', category: 'reserved', allowedInDevelopment: false },
  { address: '192.88.99.1', category: 'reserved', allowedInDevelopment: false },
  { address: '192.0.2.1', category: 'documentation', allowedInDevelopment: false },
  { address: '198.51.100.7', category: 'documentation', allowedInDevelopment: false },
  { address: '203.0.113.200', category: 'documentation', allowedInDevelopment: false },
  { address: '2001:db8::1', category: 'documentation', allowedInDevelopment: false },
  { address: '3fff::1', category: 'documentation', allowedInDevelopment: false },
  { address: '192.0.0.1', category: 'protocol-assignment', allowedInDevelopment: false },
  { address: '2001:10::1', category: 'protocol-assignment', allowedInDevelopment: false },
  { address: '2001::1', category: 'teredo', allowedInDevelopment: false },
  { address: '2001:0:4136:e378:8000:63bf:3fff:fdd2', category: 'teredo', allowedInDevelopment: false },
  { address: '::7f00:1', category: 'ipv4-compatible', allowedInDevelopment: false },
  { address: '::8.8.8.8', category: 'ipv4-compatible', allowedInDevelopment: false },
  { address: '100::1', category: 'discard', allowedInDevelopment: false },
  { address: '4000::1', category: 'non-global', allowedInDevelopment: false },
  { address: '::2:0:0:1', category: 'non-global', allowedInDevelopment: false },
];

const cloudMetadataCases: Case[] = [
  { address: '169.254.169.254', category: 'cloud-metadata', allowedInDevelopment: false },
  { address: '169.254.170.2', category: 'cloud-metadata', allowedInDevelopment: false },
  { address: '100.100.100.200', category: 'cloud-metadata', allowedInDevelopment: false },
  { address: '192.0.0.192', category: 'cloud-metadata', allowedInDevelopment: false },
  { address: 'fd00:ec2::254', category: 'cloud-metadata', allowedInDevelopment: false },
  { address: '::ffff:169.254.169.254', category: 'cloud-metadata', allowedInDevelopment: false },
  { address: '64:ff9b::a9fe:a9fe', category: 'cloud-metadata', allowedInDevelopment: false },
  { address: '2002:a9fe:a9fe::1', category: 'cloud-metadata', allowedInDevelopment: false },
];

const embeddedIpv4Cases: Case[] = [
  { address: '::ffff:127.0.0.1', category: 'loopback', allowedInDevelopment: true },
  { address: '::ffff:7f00:1', category: 'loopback', allowedInDevelopment: true },
  { address: '[::ffff:127.0.0.1]', category: 'loopback', allowedInDevelopment: true },
  { address: '::ffff:10.1.2.3', category: 'private', allowedInDevelopment: true },
  { address: '::ffff:0.0.0.0', category: 'unspecified', allowedInDevelopment: false },
  { address: '::ffff:224.0.0.1', category: 'multicast', allowedInDevelopment: false },
  { address: '::ffff:0:7f00:1', category: 'loopback', allowedInDevelopment: true },
  { address: '64:ff9b::127.0.0.1', category: 'loopback', allowedInDevelopment: true },
  { address: '64:ff9b::c0a8:101', category: 'private', allowedInDevelopment: true },
  { address: '2002:7f00:1::1', category: 'loopback', allowedInDevelopment: true },
  { address: '2002:c0a8:101::', category: 'private', allowedInDevelopment: true },
  { address: '2002:e000:1::', category: 'multicast', allowedInDevelopment: false },
];

// URL hosts a WHATWG parser reads as 127.0.0.1; the policy must read them the same way.
const numericLoopbackSpellings = [
  '2130706433',
  '0x7f000001',
  '0x7f.1',
  '0x7f.0.0.1',
  '0x7F.0x00.0x00.0x01',
  '017700000001',
  '0177.0.0.1',
  '0177.1',
  '127.1',
  '127.0.1',
  '127.000.000.001',
];

describe('classifyAddress', () => {
  describe.each([
    ['public', publicCases],
    ['internal', internalCases],
    ['always forbidden', alwaysForbiddenCases],
    ['cloud metadata', cloudMetadataCases],
    ['IPv6 embedding IPv4', embeddedIpv4Cases],
  ] as const)('%s addresses', (_family, cases) => {
    it.each(cases)('$address is $category', ({ address, category, allowedInDevelopment }) => {
      const production = classifyAddress(address, PRODUCTION);
      expect(production.category).toBe(category);
      expect(production.forbidden).toBe(category !== 'public');

      const development = classifyAddress(address, DEVELOPMENT);
      expect(development.category).toBe(category);
      expect(development.forbidden).toBe(!allowedInDevelopment);
    });
  });

  it('defaults to production mode', () => {
    expect(classifyAddress('127.0.0.1').forbidden).toBe(true);
    expect(classifyAddress('8.8.8.8').forbidden).toBe(false);
  });

  it('explains every refusal, naming the address', () => {
    for (const { address } of [...internalCases, ...alwaysForbiddenCases, ...cloudMetadataCases]) {
      const verdict = classifyAddress(address, PRODUCTION);
      expect(verdict.reason).toBeTypeOf('string');
      expect(verdict.reason).toContain(verdict.address);
    }
    expect(classifyAddress('::ffff:127.0.0.1').reason).toMatch(/IPv4-mapped.*127\.0\.0\.1.*loopback/);
    expect(classifyAddress('64:ff9b::a00:1').reason).toMatch(/NAT64.*10\.0\.0\.1.*private/);
    expect(classifyAddress('2002:7f00:1::').reason).toMatch(/6to4.*127\.0\.0\.1.*loopback/);
    expect(classifyAddress('169.254.169.254', DEVELOPMENT).reason).toMatch(/metadata/);
  });

  it('gives no reason when the address is allowed', () => {
    expect(classifyAddress('8.8.8.8').reason).toBeUndefined();
    expect(classifyAddress('127.0.0.1', DEVELOPMENT).reason).toBeUndefined();
  });

  it('reports the canonical form of the address it judged', () => {
    expect(classifyAddress('::ffff:127.0.0.1').address).toBe('::ffff:7f00:1');
    expect(classifyAddress('[::1]').address).toBe('::1');
    expect(classifyAddress('fe80::1%eth0').address).toBe('fe80::1');
    expect(classifyAddress('0x7f.1').address).toBe('127.0.0.1');
    expect(classifyAddress('FD00:EC2::254').address).toBe('fd00:ec2::254');
  });

  it.each(numericLoopbackSpellings)('reads the numeric literal %s as loopback, as new URL does', (spelling) => {
    expect(new URL(`http://${spelling}/`).hostname).toBe('127.0.0.1');
    const verdict = classifyAddress(spelling, PRODUCTION);
    expect(verdict).toMatchObject({ forbidden: true, category: 'loopback', address: '127.0.0.1' });
  });

  it.each([
    ['0', '0.0.0.0', 'unspecified'],
    ['0x0', '0.0.0.0', 'unspecified'],
    ['2852039166', '169.254.169.254', 'cloud-metadata'],
    ['0xa9fea9fe', '169.254.169.254', 'cloud-metadata'],
    ['0251.0376.0251.0376', '169.254.169.254', 'cloud-metadata'],
    ['167772161', '10.0.0.1', 'private'],
    ['010.0.0.1', '8.0.0.1', 'public'],
    ['134744072', '8.8.8.8', 'public'],
  ] as const)('reads the numeric literal %s as %s (%s)', (spelling, canonical, category) => {
    expect(new URL(`http://${spelling}/`).hostname).toBe(canonical);
    expect(classifyAddress(spelling, PRODUCTION)).toMatchObject({ address: canonical, category });
  });

  it('reads ::a.b.c.d exactly as the URL parser does (IPv4-compatible, not IPv4-mapped)', () => {
    expect(new URL('http://[::127.0.0.1]/').hostname).toBe('[::7f00:1]');
    expect(classifyAddress('::127.0.0.1', DEVELOPMENT)).toMatchObject({
      forbidden: true,
      category: 'ipv4-compatible',
      address: '::7f00:1',
    });
  });

  it.each(['', 'localhost', 'example.com', '127.0.0.1.example.com', '1.2.3.4.5', '256.0.0.1', '::ffff:0x7f.1', ':::1', '1::2::3', 'http://127.0.0.1', '127.0.0.1:80', '127.0.0.1/8', '[127.0.0.1]', '0x7f.1%eth0'])(
    'fails closed on %j, which is not an IP address',
    (input) => {
      expect(classifyAddress(input, DEVELOPMENT)).toMatchObject({ forbidden: true, category: 'invalid' });
    },
  );
});

describe('ipLiteralOfHostname', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['[::1]', '::1'],
    ['[::ffff:7f00:1]', '::ffff:7f00:1'],
    ['example.com', null],
    ['localhost', null],
    ['xn--bcher-kva.example', null],
  ] as const)('%s -> %s', (hostname, expected) => {
    expect(ipLiteralOfHostname(hostname)).toBe(expected);
  });

  it('agrees with classifyAddress on every hostname new URL produces from numeric tricks', () => {
    for (const spelling of numericLoopbackSpellings) {
      const hostname = new URL(`http://${spelling}/`).hostname;
      expect(ipLiteralOfHostname(hostname)).toBe('127.0.0.1');
    }
  });
});
