import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request that reached the origin through the recorder, as the origin received it. */
export interface OriginRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/**
 * How the recorder treats the next requests: pass them on, answer an error itself (an origin that
 * errors), or drop the connection without an answer (an origin that is down).
 */
export type OriginMode = 'forward' | 'error' | 'drop';

export interface OriginRecorder {
  /** host:port to give the shield as its origin. */
  address: string;
  /** Every request that arrived, in order (including those answered in 'error' or 'drop' mode). */
  requests: OriginRequest[];
  /** Requests for exactly this path and query. */
  count(url: string): number;
  mode: OriginMode;
  /** The status answered in 'error' mode. */
  errorStatus: number;
  /** Held this long before forwarding, so concurrent clients are certainly concurrent. */
  delayMs: number;
  /** Headers added to (or, with `undefined`, removed from) the origin's answers for URLs that start with a key. */
  extraHeaders: Map<string, OutgoingHttpHeaders>;
  close(): Promise<void>;
}

/**
 * An HTTP relay between the shield and a real Trove that records what reaches Trove: the
 * shield's requests are counted and inspected here, and Trove's answers pass through unchanged
 * unless a test adds headers or breaks the origin on purpose.
 */
export async function startOriginRecorder(target: string): Promise<OriginRecorder> {
  const upstream = new URL(target);
  const agent = new http.Agent({ keepAlive: true });
  const recorder: OriginRecorder = {
    address: '',
    requests: [],
    count: (url) => recorder.requests.filter((r) => r.url === url).length,
    mode: 'forward',
    errorStatus: 503,
    delayMs: 0,
    extraHeaders: new Map(),
    close: async () => undefined,
  };
  const server = http.createServer((request, response) => {
    recorder.requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers });
    if (recorder.mode === 'drop') {
      request.socket.destroy();
      return;
    }
    if (recorder.mode === 'error') {
      response.writeHead(recorder.errorStatus, { 'content-type': 'application/json', 'retry-after': '1' });
      response.end('{"detail":"origin broken on purpose"}');
      return;
    }
    const extra = [...recorder.extraHeaders].find(([prefix]) => (request.url ?? '').startsWith(prefix))?.[1] ?? {};
    const forward = () => {
      const outgoing = http.request(
        { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: request.headers, agent },
        (answer) => {
          const headers: OutgoingHttpHeaders = { ...answer.headers, ...extra };
          for (const [name, value] of Object.entries(headers)) if (value === undefined) delete headers[name];
          response.writeHead(answer.statusCode ?? 502, headers);
          answer.pipe(response);
        },
      );
      outgoing.on('error', () => response.destroy());
      request.pipe(outgoing);
    };
    if (recorder.delayMs > 0) setTimeout(forward, recorder.delayMs);
    else forward();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  recorder.address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  recorder.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    agent.destroy();
  };
  return recorder;
}
