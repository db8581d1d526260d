/**
 * Local stand-ins for the purge APIs Trove calls: the Varnish shield's VCL contract, a generic hook,
 * Cloudflare, Fastly and CloudFront. Each checks the documented request shape (method, path, headers,
 * body, credentials), records what it accepted, and answers as the provider does: success, an error
 * of the provider's own shape, 429 with Retry-After, no answer at all, or an endless answer.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';

export type StandInKind = 'shield' | 'http' | 'cloudflare' | 'fastly' | 'cloudfront';
export type StandInMode = 'ok' | 'error' | 'rate-limited' | 'hang' | 'huge';

export interface ReceivedPurge {
  at: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  tags: string[];
  paths: string[];
}

export interface PurgeStandIn {
  kind: StandInKind;
  url: string;
  /** Requests of the documented shape, in arrival order (whatever the mode answered). */
  received: ReceivedPurge[];
  /** Why requests were refused as malformed: a passing test expects none. */
  malformed: string[];
  mode: StandInMode;
  /** Retry-After of its 429 answers. */
  retryAfterSeconds: number;
  /** Answers `mode` to the next `count` requests, then `ok` again. */
  failNext(mode: StandInMode, count?: number): void;
  /** Every tag (or path, for CloudFront) accepted so far with mode ok. */
  purgedKeys(): string[];
  waitFor(predicate: (received: ReceivedPurge[]) => boolean, timeoutMs?: number): Promise<ReceivedPurge[]>;
  close(): Promise<void>;
}

const STAND_IN_SECRETS = {
  httpToken: 'hook-token-123',
  cloudflareToken: 'cf-token-abc',
  cloudflareZone: '023e105f4ecef8ad9ca31a8372d0c353',
  fastlyToken: 'fastly-token-xyz',
  fastlyService: 'SU1Z0isxPaozGVKXdv0eY',
  awsKeyId: 'AKIATROVETEST',
  awsSecret: 'trove/secret+key',
  distribution: 'EDFDVBD632BHDS5',
};

const MAX_BODY = 1024 * 1024;

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

interface Parsed {
  tags: string[];
  paths: string[];
}

/** Checks one request against the provider's documented shape; returns what it purges, or why it is malformed. */
function parseRequest(kind: StandInKind, method: string, path: string, headers: IncomingHttpHeaders, body: string): Parsed | string {
  const s = STAND_IN_SECRETS;
  switch (kind) {
    case 'shield': {
      if (method !== 'PURGE') return `method ${method}, expected PURGE`;
      if (path !== '/') return `path ${path}, expected /`;
      const keys = headers['xkey-purge'];
      if (typeof keys !== 'string' || keys.trim() === '') return 'no Xkey-Purge header';
      return { tags: keys.split(' '), paths: [] };
    }
    case 'http': {
      if (method !== 'POST' || path !== '/hook') return `${method} ${path}, expected POST /hook`;
      if (headers.authorization !== `Bearer ${s.httpToken}`) return `authorization ${String(headers.authorization)}`;
      if (!String(headers['content-type']).startsWith('application/json')) return 'not JSON';
      const parsed = JSON.parse(body) as { tags?: unknown; paths?: unknown };
      if (!Array.isArray(parsed.tags) || !Array.isArray(parsed.paths)) return 'body without tags and paths arrays';
      return { tags: parsed.tags as string[], paths: parsed.paths as string[] };
    }
    case 'cloudflare': {
      if (method !== 'POST' || path !== `/client/v4/zones/${s.cloudflareZone}/purge_cache`) return `${method} ${path}`;
      if (headers.authorization !== `Bearer ${s.cloudflareToken}`) return `authorization ${String(headers.authorization)}`;
      if (!String(headers['content-type']).startsWith('application/json')) return 'not JSON';
      const parsed = JSON.parse(body) as Record<string, unknown>;
      if (Object.keys(parsed).join() !== 'tags' || !Array.isArray(parsed.tags)) return `body ${body}`;
      if (parsed.tags.length === 0 || parsed.tags.length > 100) return `${parsed.tags.length} tags: Cloudflare takes 1 to 100`;
      return { tags: parsed.tags as string[], paths: [] };
    }
    case 'fastly': {
      if (method !== 'POST' || path !== `/service/${s.fastlyService}/purge`) return `${method} ${path}`;
      if (headers['fastly-key'] !== s.fastlyToken) return `fastly-key ${String(headers['fastly-key'])}`;
      const keys = headers['surrogate-key'];
      if (typeof keys !== 'string' || keys.trim() === '') return 'no Surrogate-Key header';
      const tags = keys.split(' ');
      if (tags.length > 256) return `${tags.length} keys: Fastly takes at most 256`;
      return { tags, paths: [] };
    }
    case 'cloudfront': {
      if (method !== 'POST' || path !== `/2020-05-31/distribution/${s.distribution}/invalidation`) return `${method} ${path}`;
      const auth = String(headers.authorization ?? '');
      if (!/^AWS4-HMAC-SHA256 Credential=AKIATROVETEST\/\d{8}\/us-east-1\/cloudfront\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/.test(auth)) {
        return `authorization ${auth}`;
      }
      if (typeof headers['x-amz-date'] !== 'string') return 'no x-amz-date';
      if (!body.includes('<InvalidationBatch xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">')) return `body ${body}`;
      const quantity = /<Paths><Quantity>(\d+)<\/Quantity><Items>(.*)<\/Items><\/Paths>/.exec(body);
      if (!quantity || !/<CallerReference>[^<]+<\/CallerReference>/.test(body)) return `body ${body}`;
      const paths = [...quantity[2]!.matchAll(/<Path>([^<]*)<\/Path>/g)].map((m) => m[1]!);
      if (paths.length !== Number(quantity[1])) return `Quantity ${quantity[1]} but ${paths.length} paths`;
      return { tags: [], paths };
    }
  }
}

function answerOk(kind: StandInKind, response: ServerResponse, parsed: Parsed): void {
  switch (kind) {
    case 'shield':
      return void response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ purged: parsed.tags.length }));
    case 'http':
      return void response.writeHead(204).end();
    case 'cloudflare':
      return void response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ success: true, errors: [], messages: [], result: { id: STAND_IN_SECRETS.cloudflareZone } }));
    case 'fastly':
      return void response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(Object.fromEntries(parsed.tags.map((tag, i) => [tag, `108-1391560174-${i}`]))));
    case 'cloudfront': {
      const items = parsed.paths.map((p) => `<Path>${p}</Path>`).join('');
      const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Invalidation xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Id>I2J0I21PCUYOIK</Id><Status>InProgress</Status><CreateTime>2026-12-03T00:00:00.000Z</CreateTime><InvalidationBatch><Paths><Quantity>${parsed.paths.length}</Quantity><Items>${items}</Items></Paths><CallerReference>ref</CallerReference></InvalidationBatch></Invalidation>`;
      return void response
        .writeHead(201, { 'content-type': 'text/xml', location: `https://cloudfront.amazonaws.com/2020-05-31/distribution/${STAND_IN_SECRETS.distribution}/invalidation/I2J0I21PCUYOIK` })
        .end(xml);
    }
  }
}

function cloudFrontError(status: number, code: string, message: string): [number, Record<string, string>, string] {
  return [
    status,
    { 'content-type': 'text/xml' },
    `<?xml version="1.0"?>\n<ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>b1c1d1</RequestId></ErrorResponse>`,
  ];
}

function failure(kind: StandInKind, mode: 'error' | 'rate-limited', retryAfterSeconds: number): [number, Record<string, string>, string] {
  const json = { 'content-type': 'application/json' };
  const limited = mode === 'rate-limited';
  const retry = { 'retry-after': String(retryAfterSeconds) };
  switch (kind) {
    case 'shield':
      return limited ? [429, retry, 'slow down'] : [403, { 'content-type': 'text/plain' }, 'Not allowed.'];
    case 'http':
      return limited ? [429, retry, ''] : [500, json, '{"error":"boom"}'];
    case 'cloudflare':
      return limited
        ? [429, { ...json, ...retry }, JSON.stringify({ success: false, errors: [{ code: 971, message: 'Please wait and consider throttling your request speed' }], messages: [], result: null })]
        : [403, json, JSON.stringify({ success: false, errors: [{ code: 10000, message: 'Authentication error' }], messages: [], result: null })];
    case 'fastly':
      return limited ? [429, { ...json, ...retry }, JSON.stringify({ msg: 'Too many requests' })] : [401, json, JSON.stringify({ msg: 'Provided credentials are missing or invalid' })];
    case 'cloudfront':
      return limited ? cloudFrontError(429, 'Throttling', 'Rate exceeded') : cloudFrontError(403, 'AccessDenied', 'User is not authorized to perform: cloudfront:CreateInvalidation');
  }
}

export async function startPurgeStandIn(kind: StandInKind): Promise<PurgeStandIn> {
  const received: ReceivedPurge[] = [];
  const accepted: ReceivedPurge[] = [];
  const malformed: string[] = [];
  let queued: StandInMode[] = [];
  const standIn: PurgeStandIn = {
    kind,
    url: '',
    received,
    malformed,
    mode: 'ok',
    retryAfterSeconds: 7,
    failNext(mode, count = 1) {
      queued = [...queued, ...Array.from({ length: count }, () => mode)];
    },
    purgedKeys: () => accepted.flatMap((entry) => (kind === 'cloudfront' ? entry.paths : entry.tags)),
    async waitFor(predicate, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(received)) {
        if (Date.now() > deadline) throw new Error(`${kind} stand-in: condition not met within ${timeoutMs} ms (received ${received.length}, malformed: ${malformed.join(' | ') || 'none'})`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return received;
    },
    close: async () => undefined,
  };
  const server = http.createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      const path = request.url ?? '';
      const parsed = parseRequest(kind, request.method ?? '', path, request.headers, body);
      if (typeof parsed === 'string') {
        malformed.push(parsed);
        response.writeHead(400, { 'content-type': 'text/plain' }).end(`malformed: ${parsed}`);
        return;
      }
      const entry = { at: Date.now(), method: request.method ?? '', path, headers: request.headers, body, ...parsed };
      received.push(entry);
      const mode = queued.shift() ?? standIn.mode;
      if (mode === 'hang') return;
      if (mode === 'huge') {
        response.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 32);
        const pump = () => {
          while (!response.destroyed && response.write(chunk));
          if (!response.destroyed) response.once('drain', pump);
        };
        pump();
        return;
      }
      if (mode === 'ok') {
        accepted.push(entry);
        answerOk(kind, response, parsed);
        return;
      }
      const [status, headers, text] = failure(kind, mode, standIn.retryAfterSeconds);
      response.writeHead(status, headers).end(text);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('stand-in has no port');
  standIn.url = `http://127.0.0.1:${address.port}`;
  standIn.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return standIn;
}

/** The TROVE_PURGE_* value that points Trove at a stand-in. */
export function purgeSettingFor(standIn: PurgeStandIn, extra = ''): string {
  const s = STAND_IN_SECRETS;
  const endpoint = encodeURIComponent(standIn.url);
  switch (standIn.kind) {
    case 'shield':
      return `${standIn.url}${extra ? `/?${extra}` : ''}`;
    case 'http':
      return `${standIn.url.replace('http://', `http://${s.httpToken}@`)}/hook${extra ? `?${extra}` : ''}`;
    case 'cloudflare':
      return `cloudflare://${s.cloudflareToken}@${s.cloudflareZone}?endpoint=${endpoint}${extra ? `&${extra}` : ''}`;
    case 'fastly':
      return `fastly://${s.fastlyToken}@${s.fastlyService}?endpoint=${endpoint}${extra ? `&${extra}` : ''}`;
    case 'cloudfront':
      return `cloudfront://${s.awsKeyId}:${encodeURIComponent(s.awsSecret)}@${s.distribution}?endpoint=${endpoint}${extra ? `&${extra}` : ''}`;
  }
}
