/**
 * REST query parameters: `GET /files/` (limit, from, ordering, stored, removed, since, to, search,
 * tag, mime_type, include) and the other reads that take parameters (groups, usage, delivery log,
 * file info), plus the headers every REST call needs (Accept, Authorization) now and then bent.
 */
import { createHash, createHmac } from 'node:crypto';
import type { Fixtures } from '../fixtures.js';
import { hugeNumber, mutateString, NASTY, randomString, uriEncode } from '../mutate.js';
import { chance, int, pick, weighted, type Rng } from '../rng.js';
import { encodeQuery, fixtureUuid, fuzzValue, isoDate, mutateParams, randomUuid, REST_ACCEPT, uuidish, type FuzzCase, type Param, type Target } from './common.js';

const NAMES = ['limit', 'from', 'ordering', 'stored', 'removed', 'since', 'to', 'search', 'tag', 'mime_type', 'include', 'days', 'before', 'offset', 'page'];

function limit(rng: Rng): string {
  return weighted<() => string>(rng, [[6, () => String(int(rng, 1, 1000))], [2, () => String(int(rng, -5, 1005))], [2, () => hugeNumber(rng)]])();
}

function boolish(rng: Rng): string {
  return weighted<() => string>(rng, [[6, () => pick(rng, ['true', 'false', '1', '0'])], [1, () => pick(rng, ['', 'TRUE', 'yes', 'null', 'on'])], [1, () => fuzzValue(rng)]])();
}

function cursor(rng: Rng, fx: Fixtures): string {
  return weighted<() => string>(rng, [
    [3, () => isoDate(rng)],
    [3, () => `${new Date(Date.now() - int(rng, 0, 1e9)).toISOString()}~${chance(rng, 0.6) ? fixtureUuid(rng, fx) : randomUuid(rng)}`],
    [1, () => `${isoDate(rng)}~${uuidish(rng, fx)}`],
    [1, () => `${new Date().toISOString()}~${fx.groupId}`],
    [1, () => `~${randomString(rng, 10)}`],
    [1, () => `${isoDate(rng)}${'~'.repeat(int(rng, 1, 4))}${randomString(rng, 36)}`],
  ])();
}

function mimeTypes(rng: Rng): string {
  const one = () => weighted<() => string>(rng, [[5, () => pick(rng, ['image/*', 'image/png', 'application/pdf', 'text/plain', 'application/octet-stream', 'video/*'])], [1, () => pick(rng, ['*/*', 'image', '/png', 'IMAGE/PNG', 'image/', 'a/b/c', 'image/png;q=1'])], [1, () => randomString(rng, 12)]])();
  return Array.from({ length: weighted(rng, [[8, int(rng, 1, 3)], [1, int(rng, 18, 25)]] as const) }, one).join(pick(rng, [',', ', ', ',,', ' ,']));
}

function filesListParams(rng: Rng, fx: Fixtures): Param[] {
  const params: Param[] = [];
  const add = (name: string, p: number, value: () => string) => chance(rng, p) && params.push({ name, value: value() });
  add('limit', 0.6, () => limit(rng));
  add('ordering', 0.4, () => weighted<() => string>(rng, [[6, () => pick(rng, ['datetime_uploaded', '-datetime_uploaded'])], [1, () => pick(rng, ['size', '-size', '--datetime_uploaded', '+datetime_uploaded', ''])], [1, () => fuzzValue(rng)]])());
  add('stored', 0.3, () => boolish(rng));
  add('removed', 0.3, () => boolish(rng));
  add('from', 0.4, () => cursor(rng, fx));
  add('since', 0.2, () => isoDate(rng));
  add('to', 0.2, () => isoDate(rng));
  add('search', 0.25, () => weighted<() => string>(rng, [[4, () => pick(rng, ['pixel', 'photo', 'fixture', 'kind', '%', '_', '\\', "'", '"', 'a%b_c', '*'])], [2, () => randomString(rng, 30)], [1, () => 's'.repeat(int(rng, 195, 260))]])());
  add('tag', 0.2, () => weighted<() => string>(rng, [[4, () => pick(rng, ['red', 'a b', 'x,y', ''])], [2, () => randomString(rng, 20)], [1, () => 't'.repeat(int(rng, 60, 70))]])());
  add('mime_type', 0.25, () => mimeTypes(rng));
  add('include', 0.2, () => pick(rng, ['appdata', 'APPDATA', 'appdata,other', '', fuzzValue(rng)]));
  return params;
}

interface Endpoint {
  path: string;
  params: Param[];
  kind: string;
}

function endpoint(rng: Rng, fx: Fixtures): Endpoint {
  return weighted<() => Endpoint>(rng, [
    [12, () => ({ path: '/files/', params: filesListParams(rng, fx), kind: 'files-list' })],
    [2, () => ({ path: `/files/${uuidish(rng, fx)}/`, params: chance(rng, 0.6) ? [{ name: 'include', value: pick(rng, ['appdata', fuzzValue(rng)]) }] : [], kind: 'file-info' })],
    [2, () => ({ path: '/groups/', params: [{ name: 'limit', value: limit(rng) }, { name: 'ordering', value: pick(rng, ['datetime_created', '-datetime_created', fuzzValue(rng)]) }, { name: 'from', value: cursor(rng, fx) }].filter(() => chance(rng, 0.6)), kind: 'groups-list' })],
    [1, () => ({ path: `/groups/${chance(rng, 0.6) ? fx.groupId : mutateString(rng, fx.groupId)}/`, params: [], kind: 'group-info' })],
    [2, () => ({ path: '/project/usage/', params: chance(rng, 0.85) ? [{ name: 'days', value: weighted<() => string>(rng, [[5, () => String(int(rng, 0, 400))], [2, () => hugeNumber(rng)]])() }] : [], kind: 'usage' })],
    [2, () => ({ path: `/webhooks/${chance(rng, 0.8) ? fx.webhookId : hugeNumber(rng)}/deliveries/`, params: [{ name: 'limit', value: weighted<() => string>(rng, [[4, () => String(int(rng, 0, 120))], [2, () => hugeNumber(rng)]])() }, { name: 'before', value: isoDate(rng) }].filter(() => chance(rng, 0.7)), kind: 'deliveries' })],
    [1, () => ({ path: pick(rng, ['/project/', '/project/secrets/', '/webhooks/', `/files/${fx.png.uuid}/metadata/`, `/files/${fx.png.uuid}/metadata/kind/`]), params: filesListParams(rng, fx).slice(0, 2), kind: 'other-reads' })],
  ])();
}

/** Authorization: mostly right, sometimes the signed scheme (right or stale), sometimes wrong or absent. */
function authorization(rng: Rng, fx: Fixtures, method: string, target: string): Array<[string, string]> {
  return weighted<() => Array<[string, string]>>(rng, [
    [20, () => [['authorization', `Uploadcare.Simple ${fx.publicKey}:${fx.secretKey}`]]],
    [2, () => {
      const date = chance(rng, 0.8) ? new Date().toUTCString() : pick(rng, [new Date(Date.now() - 3_600_000).toUTCString(), 'yesterday', '', randomString(rng, 20).replace(/[\r\n]/g, '')]);
      const md5 = createHash('md5').update('').digest('hex');
      const sign = createHmac('sha1', fx.secretKey).update([method, md5, '', date, target].join('\n')).digest('hex');
      return [['authorization', `Uploadcare ${fx.publicKey}:${chance(rng, 0.8) ? sign : mutateString(rng, sign).replace(/[\r\n]/g, '')}`], [chance(rng, 0.7) ? 'x-uploadcare-date' : 'date', date]];
    }],
    [1, () => [['authorization', mutateString(rng, `Uploadcare.Simple ${fx.publicKey}:${fx.secretKey}`).replace(/[\r\n]/g, '')]]],
    [1, () => [['authorization', pick(rng, ['', 'Basic Zm9vOmJhcg==', 'Bearer x', 'Uploadcare.Simple', 'Uploadcare.Simple :', `Uploadcare.Simple ${fx.publicKey}`, `Uploadcare ${fx.publicKey}:`, pick(rng, NASTY).replace(/[\r\n]/g, '')])]]],
    [0.5, () => []],
  ])();
}

export const restTarget: Target = {
  name: 'rest',
  generate(rng: Rng, fx: Fixtures): FuzzCase {
    const { path, params, kind } = endpoint(rng, fx);
    const style = weighted(rng, [[6, 'grammar'], [4, 'mutated'], [1, 'string'], [0.5, 'noise']] as const);
    let query: string;
    if (style === 'grammar') query = encodeQuery(rng, params);
    else if (style === 'mutated') query = encodeQuery(rng, mutateParams(rng, params, NAMES));
    else if (style === 'string') query = mutateString(rng, encodeQuery(rng, params));
    else query = randomString(rng, 200);
    query = query.replace(/[\s#]/g, (c) => (chance(rng, 0.95) ? uriEncode(c) : c));
    const target = query === '' && chance(rng, 0.5) ? path : `${path}?${query}`;
    const method = weighted(rng, [[20, 'GET'], [1, 'HEAD']] as const);
    const headers: Array<[string, string]> = [
      ['accept', weighted<() => string>(rng, [[30, () => REST_ACCEPT], [1, () => pick(rng, ['application/json', '*/*', 'application/vnd.uploadcare-v0.6+json', `${REST_ACCEPT}, application/json`, ''])], [1, () => mutateString(rng, REST_ACCEPT).replace(/[\r\n]/g, '')]])()],
      ...authorization(rng, fx, method, target),
    ];
    return { request: { method, target, headers, body: Buffer.alloc(0), framing: 'none' }, kind: `${kind}-${style}` };
  },
};
