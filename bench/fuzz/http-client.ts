/**
 * A deliberately dumb HTTP/1.1 client over raw sockets: it writes whatever bytes it is given
 * (broken framing, forbidden header bytes, odd boundaries) and reads one response with a deadline.
 * Keep-alive connections are reused until either side asks to close.
 */
import net from 'node:net';

export interface FuzzRequest {
  method: string;
  /** The request-target exactly as written on the request line (sent as UTF-8). */
  target: string;
  headers: Array<[string, string]>;
  body: Buffer;
  /** How the body is framed: Content-Length, chunked, or no header at all (only sensible without a body). */
  framing: 'length' | 'chunked' | 'none';
  /** Bytes written verbatim instead of serialising the fields above (protocol-level noise). */
  raw?: Buffer;
}

export interface HttpResponse {
  kind: 'response';
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  ms: number;
}
export type Outcome = HttpResponse | { kind: 'timeout'; ms: number; received: number } | { kind: 'reset'; ms: number; error: string; received: number };

/**
 * A request whose bytes could end its headers or its body somewhere other than where the framing
 * says (CR/LF in the request line or a header, its own framing headers, raw bytes). The server may
 * rightly wait for bytes that never come, so a timeout on such a request says nothing about the server.
 */
export function framingIsAmbiguous(request: FuzzRequest): boolean {
  if (request.raw) return true;
  if (/[\r\n]/.test(request.method + request.target)) return true;
  return request.headers.some(([name, value]) => /[\r\n:]/.test(name) || /[\r\n]/.test(value) || /^(content-length|transfer-encoding)$/i.test(name.trim()));
}

export function serialize(request: FuzzRequest, host: string): Buffer {
  if (request.raw) return request.raw;
  let head = `${request.method} ${request.target} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const [name, value] of request.headers) head += `${name}: ${value}\r\n`;
  let body = request.body;
  if (request.framing === 'length') head += `content-length: ${body.length}\r\n`;
  else if (request.framing === 'chunked') {
    head += 'transfer-encoding: chunked\r\n';
    const pieces: Buffer[] = [];
    // Uneven chunk sizes, so a parser that assumes one chunk per field is caught out.
    for (let at = 0; at < body.length; ) {
      const size = Math.min(body.length - at, 1 + ((at * 7919) % 977));
      pieces.push(Buffer.from(`${size.toString(16)}\r\n`), body.subarray(at, at + size), Buffer.from('\r\n'));
      at += size;
    }
    pieces.push(Buffer.from('0\r\n\r\n'));
    body = Buffer.concat(pieces);
  }
  return Buffer.concat([Buffer.from(`${head}\r\n`, 'utf8'), body]);
}

/** Request bytes, printable: what a reproducer shows. */
export function printable(bytes: Buffer, limit = 4000): string {
  const text = bytes.subarray(0, limit).toString('latin1');
  const escaped = text.replace(/[^\x20-\x7e\n]/g, (c) => (c === '\r' ? '\\r' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
  return bytes.length > limit ? `${escaped}… (${bytes.length} bytes)` : escaped;
}

interface Parsed {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

const CRLF2 = Buffer.from('\r\n\r\n');

/** One response from the start of `buf`: parsed, null while incomplete, or an Error when it is not HTTP. */
function tryParse(buf: Buffer, isHead: boolean, ended: boolean): Parsed | null | Error {
  let offset = 0;
  for (;;) {
    const end = buf.indexOf(CRLF2, offset);
    if (end === -1) return buf.length - offset > 256 * 1024 ? new Error('response head too long') : null;
    const lines = buf.subarray(offset, end).toString('latin1').split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (!status) return new Error(`not an HTTP status line: ${JSON.stringify(lines[0]?.slice(0, 80))}`);
    const code = Number(status[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    const bodyStart = end + 4;
    if (code >= 100 && code < 200) {
      offset = bodyStart;
      continue;
    }
    if (isHead || code === 204 || code === 304) return { status: code, headers, body: Buffer.alloc(0) };
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const pieces: Buffer[] = [];
      let at = bodyStart;
      for (;;) {
        const lineEnd = buf.indexOf('\r\n', at);
        if (lineEnd === -1) return null;
        const size = parseInt(buf.subarray(at, lineEnd).toString('latin1'), 16);
        if (!Number.isFinite(size)) return new Error('bad chunk size');
        if (size === 0) {
          const trailerEnd = buf.indexOf(CRLF2, lineEnd);
          if (trailerEnd === -1 && buf.indexOf('\r\n', lineEnd + 2) !== lineEnd + 2) return null;
          return { status: code, headers, body: Buffer.concat(pieces) };
        }
        if (buf.length < lineEnd + 2 + size + 2) return null;
        pieces.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
    }
    const length = headers['content-length'];
    if (length !== undefined) {
      const n = Number(length);
      if (!Number.isInteger(n) || n < 0) return new Error(`bad content-length ${length}`);
      if (buf.length < bodyStart + n) return null;
      return { status: code, headers, body: buf.subarray(bodyStart, bodyStart + n) };
    }
    return ended ? { status: code, headers, body: buf.subarray(bodyStart) } : null;
  }
}

export class Connection {
  private socket: net.Socket | null = null;

  constructor(
    private readonly port: number,
    private readonly hostname = '127.0.0.1',
  ) {}

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  private connect(): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port: this.port, host: this.hostname, noDelay: true });
      socket.once('connect', () => {
        socket.removeListener('error', reject);
        // An idle keep-alive socket the server resets must not take the fuzzer down; the next send notices.
        socket.on('error', () => undefined);
        resolve(socket);
      });
      socket.once('error', reject);
    });
  }

  /**
   * Sends one request and reads one response. `fresh` forces a new connection. A reused connection
   * the server had already closed is retried once on a new one: that is keep-alive, not the server's fault.
   */
  async send(bytes: Buffer, options: { isHead: boolean; deadlineMs: number; closeAfter: boolean }): Promise<Outcome> {
    const reused = this.socket !== null && !this.socket.destroyed;
    const first = await this.attempt(bytes, options);
    if (first.kind === 'reset' && reused && first.received === 0) return this.attempt(bytes, options);
    return first;
  }

  private async attempt(bytes: Buffer, options: { isHead: boolean; deadlineMs: number; closeAfter: boolean }): Promise<Outcome> {
    const started = performance.now();
    if (!this.socket || this.socket.destroyed || !this.socket.writable) {
      this.socket?.destroy();
      try {
        this.socket = await this.connect();
      } catch (error) {
        this.socket = null;
        return { kind: 'reset', ms: performance.now() - started, error: `connect: ${(error as Error).message}`, received: 0 };
      }
    }
    const socket = this.socket;
    return new Promise<Outcome>((resolve) => {
      let buf: Buffer = Buffer.alloc(0);
      let settled = false;
      let ended = false;
      const finish = (outcome: Outcome, keep: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.removeListener('data', onData);
        socket.removeListener('end', onEnd);
        socket.removeListener('close', onClose);
        socket.removeListener('error', onError);
        if (!keep) {
          socket.destroy();
          if (this.socket === socket) this.socket = null;
        }
        resolve(outcome);
      };
      const check = () => {
        const parsed = tryParse(buf, options.isHead, ended);
        const ms = performance.now() - started;
        if (parsed === null) {
          if (ended) finish({ kind: 'reset', ms, error: 'connection closed before a complete response', received: buf.length }, false);
          return;
        }
        if (parsed instanceof Error) {
          finish({ kind: 'reset', ms, error: parsed.message, received: buf.length }, false);
          return;
        }
        const keep = !ended && !options.closeAfter && !/close/i.test(parsed.headers.connection ?? '');
        finish({ kind: 'response', status: parsed.status, headers: parsed.headers, body: Buffer.from(parsed.body), ms }, keep);
      };
      const onData = (chunk: Buffer) => {
        buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
        check();
      };
      const onEnd = () => {
        ended = true;
        check();
      };
      const onClose = () => {
        ended = true;
        check();
      };
      const onError = (error: Error) => {
        // The response may already be complete in `buf`; a reset after it is the server closing.
        ended = true;
        const parsed = tryParse(buf, options.isHead, true);
        if (parsed && !(parsed instanceof Error)) return check();
        finish({ kind: 'reset', ms: performance.now() - started, error: `${(error as NodeJS.ErrnoException).code ?? ''} ${error.message}`.trim(), received: buf.length }, false);
      };
      const timer = setTimeout(() => finish({ kind: 'timeout', ms: performance.now() - started, received: buf.length }, false), options.deadlineMs);
      socket.on('data', onData);
      socket.on('end', onEnd);
      socket.on('close', onClose);
      socket.on('error', onError);
      socket.write(bytes);
      // Nothing more is coming: a server waiting for bytes the framing promised hears so at once.
      if (options.closeAfter) socket.end();
    });
  }
}
