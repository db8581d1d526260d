import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Readable } from 'node:stream';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGuardedFetcher, type HostnameResolver } from '../../src/adapters/fetch/guarded-fetcher.js';
import { FetchError, type FetchErrorCode, type FetchLimits } from '../../src/ports/fetcher.js';

// Every server here listens on 127.0.0.1 and every hostname goes through an injected resolver (or is
// `localhost`), so no test sends a packet anywhere else or depends on external DNS.

const DEFAULT_LIMITS: FetchLimits = { maxBytes: 64 * 1024, timeoutMs: 3_000, maxRedirects: 3 };
const USER_AGENT = 'TroveTest/1.0';

interface ReceivedRequest {
  url: string;
  headers: http.IncomingHttpHeaders;
}

interface TestServer {
  port: number;
  origin: string;
  received: ReceivedRequest[];
  connections: number;
  /** Resolves when every socket opened so far has closed. */
  allSocketsClosed(): Promise<void>;
  close(): Promise<void>;
}

async function startServer(handler: http.RequestListener): Promise<TestServer> {
  const received: ReceivedRequest[] = [];
  const openSockets = new Set<Socket>();
  const server = http.createServer((request, response) => {
    received.push({ url: request.url ?? '', headers: request.headers });
    handler(request, response);
  });
  const state = { connections: 0 };
  server.on('connection', (socket) => {
    state.connections += 1;
    openSockets.add(socket);
    socket.once('close', () => openSockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    received,
    get connections() {
      return state.connections;
    },
    async allSocketsClosed() {
      const deadline = Date.now() + 2_000;
      while (openSockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(openSockets.size).toBe(0);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readText(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function expectFetchError(promise: Promise<unknown>, code: FetchErrorCode): Promise<FetchError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected a FetchError ${code}, but the promise resolved`);
    },
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(FetchError);
  expect((error as FetchError).code).toBe(code);
  return error as FetchError;
}

/** Resolver for fake hostnames; records every lookup so tests can see when a check happened. */
function fakeResolver(table: Record<string, string[]>): HostnameResolver & { lookups: string[] } {
  const lookups: string[] = [];
  const resolve = async (hostname: string): Promise<string[]> => {
    lookups.push(hostname);
    const addresses = table[hostname];
    if (addresses === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses;
  };
  return Object.assign(resolve, { lookups });
}

const bigChunk = Buffer.alloc(16 * 1024, 0x61);

describe('GuardedFetcher with allowPrivate=true (development)', () => {
  let server: TestServer;
  const resolver = fakeResolver({
    'pinned.test': ['127.0.0.1'],
    'meta.test': ['169.254.169.254'],
  });
  const fetcher = createGuardedFetcher({ allowPrivate: true, defaults: DEFAULT_LIMITS, userAgent: USER_AGENT, resolver });

  beforeAll(async () => {
    server = await startServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://x');
      switch (url.pathname) {
        case '/files/hello%20world.txt':
          response.writeHead(200, {
            'content-type': 'text/plain; charset=utf-8',
            'content-length': '12',
            'set-cookie': 'session=1',
          });
          response.end('hello, world');
          return;
        case '/download':
          response.writeHead(200, {
            'content-type': 'application/pdf',
            'content-disposition': `attachment; filename="fallback.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`,
          });
          response.end('%PDF');
          return;
        case '/download-plain':
          response.writeHead(200, { 'content-disposition': 'attachment; filename="../../etc/report \\"q1\\".csv"' });
          response.end('a,b');
          return;
        case '/':
          response.writeHead(204);
          response.end();
          return;
        case '/hop1':
          response.writeHead(301, { location: '/hop2' });
          response.end('moved');
          return;
        case '/hop2':
          response.writeHead(302, { location: `${server.origin}/hop3` });
          response.end();
          return;
        case '/hop3':
          response.writeHead(303, { location: 'final.bin?x=1' });
          response.end();
          return;
        case '/final.bin':
          response.writeHead(200, { 'content-type': 'application/octet-stream' });
          response.end('done');
          return;
        case '/loop':
          response.writeHead(307, { location: `/loop?n=${Number(url.searchParams.get('n') ?? '0') + 1}` });
          response.end();
          return;
        case '/to-metadata':
          response.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
          response.end();
          return;
        case '/to-meta-host':
          response.writeHead(308, { location: 'http://meta.test/latest/meta-data/' });
          response.end();
          return;
        case '/to-ftp':
          response.writeHead(302, { location: 'ftp://127.0.0.1/file' });
          response.end();
          return;
        case '/redirect-without-location':
          response.writeHead(302);
          response.end();
          return;
        case '/big-declared':
          response.writeHead(200, { 'content-length': String(1024 * 1024) });
          // Keep writing so the test would notice if the fetcher buffered instead of refusing.
          response.write(bigChunk);
          return;
        case '/big-chunked': {
          response.writeHead(200, { 'content-type': 'application/octet-stream' });
          let sent = 0;
          const pump = (): void => {
            while (sent < 1024 * 1024) {
              sent += bigChunk.length;
              if (!response.write(bigChunk)) {
                response.once('drain', pump);
                return;
              }
            }
            response.end();
          };
          pump();
          return;
        }
        case '/exact': {
          const size = Number(url.searchParams.get('size'));
          const declared = url.searchParams.get('declared') === '1';
          response.writeHead(200, declared ? { 'content-length': String(size) } : {});
          response.end(Buffer.alloc(size, 0x62));
          return;
        }
        case '/never-answers':
          return;
        case '/slow-body':
          response.writeHead(200, { 'content-type': 'text/plain' });
          response.write('first bytes');
          return;
        case '/truncated':
          response.writeHead(200, { 'content-length': '100' });
          response.write('only ten b');
          setTimeout(() => response.socket?.destroy(), 20);
          return;
        case '/missing':
          response.writeHead(404, { 'content-type': 'text/plain' });
          response.end('not here');
          return;
        default:
          response.writeHead(500);
          response.end();
      }
    });
  });

  afterAll(async () => {
    await server.close();
  });

  it('fetches a 200 with its body, metadata and a filename from the path', async () => {
    const resource = await fetcher.fetch(`${server.origin}/files/hello%20world.txt#fragment`);
    expect(resource.status).toBe(200);
    expect(resource.finalUrl).toBe(`${server.origin}/files/hello%20world.txt`);
    expect(resource.contentType).toBe('text/plain; charset=utf-8');
    expect(resource.contentLength).toBe(12);
    expect(resource.suggestedFilename).toBe('hello world.txt');
    expect(await readText(resource.body)).toBe('hello, world');

    const request = server.received.at(-1);
    expect(request?.headers['user-agent']).toBe(USER_AGENT);
    expect(request?.headers.accept).toBe('*/*');
    expect(request?.headers.host).toBe(`127.0.0.1:${server.port}`);
    expect(request?.headers.cookie).toBeUndefined();
    expect(request?.headers.authorization).toBeUndefined();
  });

  it('prefers filename* from Content-Disposition, then filename, reduced to a bare name', async () => {
    const encoded = await fetcher.fetch(`${server.origin}/download`);
    expect(encoded.suggestedFilename).toBe('résumé.pdf');
    await readText(encoded.body);

    const plain = await fetcher.fetch(`${server.origin}/download-plain`);
    expect(plain.suggestedFilename).toBe('report "q1".csv');
    await readText(plain.body);
  });

  it('suggests no filename when the path has none', async () => {
    const resource = await fetcher.fetch(`${server.origin}/`);
    expect(resource.status).toBe(204);
    expect(resource.suggestedFilename).toBeNull();
    expect(await readText(resource.body)).toBe('');
  });

  it('follows a redirect chain within the limit, re-checking each hop', async () => {
    const resource = await fetcher.fetch(`${server.origin}/hop1`);
    expect(resource.finalUrl).toBe(`${server.origin}/final.bin?x=1`);
    expect(resource.suggestedFilename).toBe('final.bin');
    expect(await readText(resource.body)).toBe('done');
  });

  it('refuses a redirect chain longer than maxRedirects', async () => {
    const error = await expectFetchError(fetcher.fetch(`${server.origin}/loop`), 'TOO_MANY_REDIRECTS');
    expect(error.message).toMatch(/3 redirects/);
    await expectFetchError(fetcher.fetch(`${server.origin}/hop1`, { maxRedirects: 2 }), 'TOO_MANY_REDIRECTS');
    await expectFetchError(fetcher.fetch(`${server.origin}/hop1`, { maxRedirects: 0 }), 'TOO_MANY_REDIRECTS');
  });

  it('reports a 404 as HTTP_ERROR with the status', async () => {
    const error = await expectFetchError(fetcher.fetch(`${server.origin}/missing`), 'HTTP_ERROR');
    expect(error.status).toBe(404);
  });

  it('treats a redirect status without Location as a final non-2xx answer', async () => {
    const error = await expectFetchError(fetcher.fetch(`${server.origin}/redirect-without-location`), 'HTTP_ERROR');
    expect(error.status).toBe(302);
  });

  it('refuses at once a declared Content-Length above maxBytes', async () => {
    const error = await expectFetchError(fetcher.fetch(`${server.origin}/big-declared`), 'TOO_LARGE');
    expect(error.message).toMatch(/1048576/);
    await server.allSocketsClosed();
  });

  it('errors the body stream with TOO_LARGE once an undeclared (chunked) body passes maxBytes', async () => {
    const resource = await fetcher.fetch(`${server.origin}/big-chunked`);
    expect(resource.contentLength).toBeNull();
    await expectFetchError(readText(resource.body), 'TOO_LARGE');
    await server.allSocketsClosed();
  });

  it('accepts a body of exactly maxBytes and refuses one byte more', async () => {
    for (const declared of ['0', '1']) {
      const exact = await fetcher.fetch(`${server.origin}/exact?size=1000&declared=${declared}`, { maxBytes: 1000 });
      expect((await readText(exact.body)).length).toBe(1000);
    }
    await expectFetchError(fetcher.fetch(`${server.origin}/exact?size=1001&declared=1`, { maxBytes: 1000 }), 'TOO_LARGE');
    const undeclared = await fetcher.fetch(`${server.origin}/exact?size=1001&declared=0`, { maxBytes: 1000 });
    await expectFetchError(readText(undeclared.body), 'TOO_LARGE');
  });

  it('times out when the server never answers', async () => {
    const started = Date.now();
    const error = await expectFetchError(fetcher.fetch(`${server.origin}/never-answers`, { timeoutMs: 300 }), 'TIMEOUT');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error.message).toMatch(/300 ms/);
    await server.allSocketsClosed();
  });

  it('errors the body with TIMEOUT when it is still streaming at the deadline', async () => {
    const resource = await fetcher.fetch(`${server.origin}/slow-body`, { timeoutMs: 300 });
    await expectFetchError(readText(resource.body), 'TIMEOUT');
    await server.allSocketsClosed();
  });

  it('counts redirects against the same deadline', async () => {
    await expectFetchError(fetcher.fetch(`${server.origin}/loop`, { timeoutMs: 1, maxRedirects: 1000 }), 'TIMEOUT');
  });

  it('errors the body with NETWORK_ERROR when the connection drops mid-body', async () => {
    const resource = await fetcher.fetch(`${server.origin}/truncated`);
    await expectFetchError(readText(resource.body), 'NETWORK_ERROR');
  });

  it('reports a refused connection as NETWORK_ERROR', async () => {
    const closed = await startServer(() => undefined);
    await closed.close();
    await expectFetchError(fetcher.fetch(`${closed.origin}/`), 'NETWORK_ERROR');
  });

  it('rejects with the reason of an external AbortSignal, before or during the request', async () => {
    const reason = new Error('client went away');
    await expect(fetcher.fetch(`${server.origin}/`, undefined, AbortSignal.abort(reason))).rejects.toBe(reason);

    const controller = new AbortController();
    const pending = fetcher.fetch(`${server.origin}/never-answers`, undefined, controller.signal);
    setTimeout(() => controller.abort(reason), 50);
    await expect(pending).rejects.toBe(reason);
    await server.allSocketsClosed();
  });

  it('errors the body with the abort reason when aborted while streaming', async () => {
    const controller = new AbortController();
    const resource = await fetcher.fetch(`${server.origin}/slow-body`, undefined, controller.signal);
    const reading = readText(resource.body);
    controller.abort(new Error('stop'));
    await expect(reading).rejects.toThrow('stop');
    await server.allSocketsClosed();
  });

  it('closes the connection when the consumer destroys the body early', async () => {
    const resource = await fetcher.fetch(`${server.origin}/slow-body`);
    resource.body.destroy();
    await server.allSocketsClosed();
  });

  it('connects to the checked address while keeping the hostname in the Host header', async () => {
    resolver.lookups.length = 0;
    const resource = await fetcher.fetch(`http://pinned.test:${server.port}/files/hello%20world.txt`);
    expect(await readText(resource.body)).toBe('hello, world');
    expect(server.received.at(-1)?.headers.host).toBe(`pinned.test:${server.port}`);
    // pinned.test exists only in the fake resolver: the socket cannot have asked real DNS.
    expect(resolver.lookups).toEqual(['pinned.test']);
  });

  it('keeps cloud metadata forbidden even with allowPrivate, on a redirect hop', async () => {
    const error = await expectFetchError(fetcher.fetch(`${server.origin}/to-metadata`), 'URL_HOST_FORBIDDEN');
    expect(error.message).toMatch(/169\.254\.169\.254/);
    expect(error.message).toMatch(/metadata/);
  });

  it('resolves and re-checks a redirect to a hostname', async () => {
    resolver.lookups.length = 0;
    const error = await expectFetchError(fetcher.fetch(`${server.origin}/to-meta-host`), 'URL_HOST_FORBIDDEN');
    expect(resolver.lookups).toEqual(['meta.test']);
    expect(error.message).toMatch(/meta\.test resolves to 169\.254\.169\.254/);
  });

  it('refuses a redirect to another scheme', async () => {
    await expectFetchError(fetcher.fetch(`${server.origin}/to-ftp`), 'URL_SCHEME_INVALID');
  });

  it('still refuses unspecified and multicast addresses', async () => {
    await expectFetchError(fetcher.fetch(`http://0.0.0.0:${server.port}/`), 'URL_HOST_FORBIDDEN');
    await expectFetchError(fetcher.fetch(`http://[::]:${server.port}/`), 'URL_HOST_FORBIDDEN');
    await expectFetchError(fetcher.fetch('http://224.0.0.1/'), 'URL_HOST_FORBIDDEN');
  });

  it('reports an unresolvable host as HOST_NOT_FOUND', async () => {
    await expectFetchError(fetcher.fetch('http://nowhere.test/'), 'HOST_NOT_FOUND');
    const empty = createGuardedFetcher({
      allowPrivate: true,
      defaults: DEFAULT_LIMITS,
      userAgent: USER_AGENT,
      resolver: async () => [],
    });
    await expectFetchError(empty.fetch('http://empty.test/'), 'HOST_NOT_FOUND');
  });

  it('sends SNI for the hostname over https while connecting to the pinned address', async () => {
    const serverNames: string[] = [];
    // No certificate needed: the ClientHello already carries the server name, then the handshake fails.
    const tlsServer = tls.createServer({
      SNICallback: (serverName, callback) => {
        serverNames.push(serverName);
        callback(new Error('no certificate in this test'), undefined);
      },
    });
    tlsServer.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
    const port = (tlsServer.address() as AddressInfo).port;
    const secureResolver = fakeResolver({ 'secure.test': ['127.0.0.1'] });
    const secureFetcher = createGuardedFetcher({
      allowPrivate: true,
      defaults: DEFAULT_LIMITS,
      userAgent: USER_AGENT,
      resolver: secureResolver,
    });
    try {
      await expectFetchError(secureFetcher.fetch(`https://secure.test:${port}/`), 'NETWORK_ERROR');
      expect(serverNames).toEqual(['secure.test']);
      expect(secureResolver.lookups).toEqual(['secure.test']);
    } finally {
      await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
    }
  });
});

describe('GuardedFetcher with allowPrivate=false (production)', () => {
  let server: TestServer;
  const resolver = fakeResolver({
    'evil.test': ['169.254.169.254'],
    'mixed.test': ['93.184.216.34', '10.0.0.5'],
    'mapped.test': ['::ffff:127.0.0.1'],
    'rebind.test': ['127.0.0.1'],
  });
  const fetcher = createGuardedFetcher({ allowPrivate: false, defaults: DEFAULT_LIMITS, userAgent: USER_AGENT, resolver });
  const systemDnsFetcher = createGuardedFetcher({ allowPrivate: false, defaults: DEFAULT_LIMITS, userAgent: USER_AGENT });

  beforeAll(async () => {
    server = await startServer((_request, response) => {
      response.writeHead(200);
      response.end('secret');
    });
  });

  afterEach(() => {
    // Nothing in this block may ever reach the server.
    expect(server.connections).toBe(0);
  });

  afterAll(async () => {
    await server.close();
  });

  it('blocks a loopback IP literal', async () => {
    const error = await expectFetchError(fetcher.fetch(`http://127.0.0.1:${server.port}/`), 'URL_HOST_FORBIDDEN');
    expect(error.message).toMatch(/127\.0\.0\.1.*loopback/);
  });

  it('blocks localhost, resolved by the system', async () => {
    const error = await expectFetchError(systemDnsFetcher.fetch(`http://localhost:${server.port}/`), 'URL_HOST_FORBIDDEN');
    expect(error.message).toMatch(/localhost resolves to/);
  });

  it.each([
    ['IPv4-mapped IPv6', (port: number) => `http://[::ffff:127.0.0.1]:${port}/`],
    ['IPv6 loopback', (port: number) => `http://[::1]:${port}/`],
    ['decimal', (port: number) => `http://2130706433:${port}/`],
    ['hex', (port: number) => `http://0x7f.1:${port}/`],
    ['octal', (port: number) => `http://017700000001:${port}/`],
    ['short form', (port: number) => `http://127.1:${port}/`],
    ['percent-encoded', (port: number) => `http://%31%32%37.0.0.1:${port}/`],
    ['trailing dot', (port: number) => `http://127.0.0.1.:${port}/`],
    ['unspecified', (port: number) => `http://0:${port}/`],
  ])('blocks the %s spelling of a local address', async (_name, urlFor) => {
    await expectFetchError(fetcher.fetch(urlFor(server.port)), 'URL_HOST_FORBIDDEN');
  });

  it('blocks a hostname resolving to cloud metadata before connecting', async () => {
    resolver.lookups.length = 0;
    const error = await expectFetchError(fetcher.fetch('http://evil.test/latest/meta-data/'), 'URL_HOST_FORBIDDEN');
    expect(resolver.lookups).toEqual(['evil.test']);
    expect(error.message).toMatch(/evil\.test resolves to 169\.254\.169\.254/);
  });

  it('blocks a hostname when any one of its addresses is forbidden', async () => {
    const error = await expectFetchError(fetcher.fetch('http://mixed.test/'), 'URL_HOST_FORBIDDEN');
    expect(error.message).toMatch(/10\.0\.0\.5.*private/);
  });

  it('blocks a hostname resolving to an IPv4-mapped loopback address', async () => {
    await expectFetchError(fetcher.fetch(`http://mapped.test:${server.port}/`), 'URL_HOST_FORBIDDEN');
    await expectFetchError(fetcher.fetch(`http://rebind.test:${server.port}/`), 'URL_HOST_FORBIDDEN');
  });

  it.each(['ftp://127.0.0.1/file', 'file:///etc/passwd', 'gopher://127.0.0.1:6379/_INFO', 'data:text/plain,hi', 'javascript:alert(1)', 'ws://example.test/'])(
    'refuses the scheme of %s',
    async (url) => {
      await expectFetchError(fetcher.fetch(url), 'URL_SCHEME_INVALID');
    },
  );

  it.each(['http://user:pass@example.test/', 'http://user@example.test/', 'https://:secret@example.test/'])(
    'refuses credentials in %s',
    async (url) => {
      const error = await expectFetchError(fetcher.fetch(url), 'URL_INVALID');
      expect(error.message).not.toMatch(/pass|secret/);
    },
  );

  it.each(['not a url', '', 'http://', 'http://exa mple.test/', 'http://foo.123/', '/relative/path'])(
    'refuses the malformed URL %j',
    async (url) => {
      await expectFetchError(fetcher.fetch(url), 'URL_INVALID');
    },
  );
});
