import net from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  chunkHeader,
  commandBytes,
  END_OF_STREAM,
  frameChunks,
  isCompleteReply,
  parsePing,
  parseScanReply,
  parseVersion,
  replyText,
} from '../../src/adapters/scan/clamd-protocol.js';
import { ClamdScanner, formatClamdAddress } from '../../src/adapters/scan/clamd-scanner.js';
import { parseClamdUrl } from '../../src/config/parse-values.js';
import { VirusScanError } from '../../src/ports/virus-scanner.js';

describe('clamd protocol framing', () => {
  it('ends z-commands with a NUL', () => {
    expect(commandBytes('INSTREAM').toString('latin1')).toBe('zINSTREAM\0');
    expect(commandBytes('PING').toString('latin1')).toBe('zPING\0');
    expect(commandBytes('VERSION').toString('latin1')).toBe('zVERSION\0');
  });

  it('leads each chunk with its length as 4 big-endian bytes and ends the stream with a zero length', () => {
    expect([...chunkHeader(1)]).toEqual([0, 0, 0, 1]);
    expect([...chunkHeader(0x01020304)]).toEqual([1, 2, 3, 4]);
    expect([...chunkHeader(0xffff_ffff)]).toEqual([255, 255, 255, 255]);
    expect([...END_OF_STREAM]).toEqual([0, 0, 0, 0]);
    expect(() => chunkHeader(-1)).toThrow(RangeError);
    expect(() => chunkHeader(2 ** 32)).toThrow(RangeError);
    expect(() => chunkHeader(1.5)).toThrow(RangeError);
  });

  it('splits a body into framed chunks of at most the chunk size', () => {
    const frames = frameChunks(Buffer.from('abcdefghij'), 4);
    expect(frames.map((frame) => frame.toString('latin1'))).toEqual(['\0\0\0\x04', 'abcd', '\0\0\0\x04', 'efgh', '\0\0\0\x02', 'ij']);
    expect(frameChunks(Buffer.alloc(0), 4)).toEqual([]);
  });

  it('reads replies up to their NUL', () => {
    expect(isCompleteReply(Buffer.from('stream: OK'))).toBe(false);
    expect(isCompleteReply(Buffer.from('stream: OK\0'))).toBe(true);
    expect(replyText(Buffer.from('  stream: OK\0garbage'))).toBe('stream: OK');
    expect(replyText(Buffer.from('PONG\n'))).toBe('PONG');
  });
});

describe('clamd replies', () => {
  it('reads a clean verdict and a finding with its signature', () => {
    expect(parseScanReply('stream: OK')).toEqual({ infected: false, signature: null });
    expect(parseScanReply('stream: Win.Test.EICAR_HDB-1.UNOFFICIAL FOUND')).toEqual({ infected: true, signature: 'Win.Test.EICAR_HDB-1.UNOFFICIAL' });
    // A signature name may hold spaces in heuristic findings.
    expect(parseScanReply('stream: Heuristics.Limits.Exceeded.MaxFileSize FOUND').signature).toBe('Heuristics.Limits.Exceeded.MaxFileSize');
  });

  it('turns the stream limit into TOO_LARGE, which is not retried', () => {
    const error = catchScanError(() => parseScanReply('INSTREAM size limit exceeded. ERROR'));
    expect(error.code).toBe('TOO_LARGE');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('StreamMaxLength');
  });

  it('reports any other reply as a scanner error that quotes it (cut short)', () => {
    const error = catchScanError(() => parseScanReply('lstat() failed: No such file or directory. ERROR'));
    expect(error.code).toBe('SCANNER_ERROR');
    expect(error.message).toContain('lstat() failed');
    expect(catchScanError(() => parseScanReply('')).message).toContain('(nothing)');
    expect(catchScanError(() => parseScanReply('x'.repeat(10_000))).message.length).toBeLessThan(300);
    // `stream: OK` must be the whole reply, not a prefix of something else.
    expect(catchScanError(() => parseScanReply('stream: OK but not really')).code).toBe('SCANNER_ERROR');
  });

  it('reads the engine version with or without the database part', () => {
    expect(parseVersion('ClamAV 1.4.6/27543/Mon Jan  5 09:00:00 2026')).toBe('1.4.6');
    expect(parseVersion('ClamAV 1.4.6')).toBe('1.4.6');
    expect(parseVersion('ClamAV 0.104.2')).toBe('0.104.2');
    expect(catchScanError(() => parseVersion('UNKNOWN COMMAND')).code).toBe('SCANNER_ERROR');
    expect(() => parsePing('PONG')).not.toThrow();
    expect(catchScanError(() => parsePing('UNKNOWN COMMAND')).code).toBe('SCANNER_ERROR');
  });
});

describe('TROVE_CLAMD_URL', () => {
  it('reads TCP and Unix addresses', () => {
    expect(parseClamdUrl('tcp://127.0.0.1:3310')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 3310 });
    expect(parseClamdUrl('tcp://clamav')).toEqual({ kind: 'tcp', host: 'clamav', port: 3310 });
    expect(parseClamdUrl('tcp://[::1]:3311')).toEqual({ kind: 'tcp', host: '::1', port: 3311 });
    expect(parseClamdUrl('unix:/run/clamav/clamd.ctl')).toEqual({ kind: 'unix', path: '/run/clamav/clamd.ctl' });
    expect(parseClamdUrl('unix:///run/clamav/clamd.ctl')).toEqual({ kind: 'unix', path: '/run/clamav/clamd.ctl' });
    expect(formatClamdAddress({ kind: 'tcp', host: '::1', port: 3311 })).toBe('tcp://[::1]:3311');
    expect(formatClamdAddress({ kind: 'unix', path: '/run/clamd.ctl' })).toBe('unix:/run/clamd.ctl');
  });

  it('refuses what is not a clamd address', () => {
    for (const bad of ['http://127.0.0.1:3310', 'unix:relative.sock', 'tcp://host:3310/path', 'tcp://user@host:3310', 'nonsense', 'tcp://host:99999']) {
      expect(() => parseClamdUrl(bad), bad).toThrow();
    }
  });
});

/** A stand-in clamd on loopback whose behaviour each test chooses. */
async function fakeClamd(onConnection: (socket: net.Socket, received: () => Buffer) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const chunks: Buffer[] = [];
    socket.on('data', (data: Buffer) => chunks.push(data));
    socket.on('error', () => undefined);
    onConnection(socket, () => Buffer.concat(chunks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Reads an INSTREAM as clamd does: the command, then length-prefixed chunks up to a zero length. */
function parseInstream(raw: Buffer): { command: string; chunks: Buffer[]; ended: boolean } {
  const nul = raw.indexOf(0);
  const command = raw.subarray(0, nul).toString('latin1');
  const chunks: Buffer[] = [];
  let offset = nul + 1;
  while (offset + 4 <= raw.length) {
    const length = raw.readUInt32BE(offset);
    if (length === 0) return { command, chunks, ended: true };
    chunks.push(raw.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return { command, chunks, ended: false };
}

describe('ClamdScanner against a stand-in clamd', () => {
  let closeServer: (() => Promise<void>) | null = null;
  afterEach(async () => {
    await closeServer?.();
    closeServer = null;
  });

  const scannerAt = (port: number, overrides: { timeoutMs?: number; maxStreamBytes?: number; chunkBytes?: number } = {}) =>
    new ClamdScanner({ address: { kind: 'tcp', host: '127.0.0.1', port }, timeoutMs: 2_000, maxStreamBytes: 10 * 1024 * 1024, ...overrides });

  it('streams a file as framed chunks and reads the verdict', async () => {
    let seen: ReturnType<typeof parseInstream> | null = null;
    const server = await fakeClamd((socket, received) => {
      socket.on('data', () => {
        const parsed = parseInstream(received());
        if (parsed.ended) {
          seen = parsed;
          socket.end('stream: OK\0');
        }
      });
    });
    closeServer = server.close;
    const body = Buffer.alloc(300_000, 7);
    const verdict = await scannerAt(server.port, { chunkBytes: 65_536 }).scan(Readable.from([body.subarray(0, 100_000), body.subarray(100_000)]), body.length);
    expect(verdict).toEqual({ infected: false, signature: null });
    expect(seen!.command).toBe('zINSTREAM');
    expect(seen!.chunks.every((chunk) => chunk.length <= 65_536)).toBe(true);
    expect(Buffer.concat(seen!.chunks).equals(body)).toBe(true);
  });

  it('stops sending once clamd has answered (its stream limit) and reports TOO_LARGE, not a hang', async () => {
    const server = await fakeClamd((socket, received) => {
      socket.on('data', () => {
        // A write that meets the closed connection may lose the answer; the scanner then asks whether clamd still answers.
        if (received().toString('latin1').startsWith('zPING\0')) socket.end('PONG\0');
        else if (received().length > 200_000) socket.end('INSTREAM size limit exceeded. ERROR\0');
      });
    });
    closeServer = server.close;
    let produced = 0;
    // An endless source: only an answer from clamd can end this scan.
    const endless = new Readable({
      read() {
        produced += 65_536;
        this.push(Buffer.alloc(65_536));
      },
    });
    const error = await scannerAt(server.port, { maxStreamBytes: 1024 ** 3 }).scan(endless, 1024 ** 2).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VirusScanError);
    expect((error as VirusScanError).code).toBe('TOO_LARGE');
    expect(endless.destroyed).toBe(true);
    // Backpressure kept the source from racing ahead of the socket.
    expect(produced).toBeLessThan(64 * 1024 * 1024);
  });

  it('calls a stream cut short by a clamd that no longer answers UNREACHABLE (retried), not too large', async () => {
    const server = await fakeClamd((socket, received) => {
      socket.on('data', () => {
        if (received().length > 100_000) socket.destroy();
      });
    });
    closeServer = server.close;
    const body = Buffer.alloc(2 * 1024 * 1024);
    const error = (await scannerAt(server.port, { timeoutMs: 500 }).scan(Readable.from([body]), body.length).catch((e: unknown) => e)) as VirusScanError;
    expect(error.code).toBe('UNREACHABLE');
    expect(error.retryable).toBe(true);
  });

  it('refuses a file over the configured limit without connecting', async () => {
    let connections = 0;
    const server = await fakeClamd(() => (connections += 1));
    closeServer = server.close;
    const source = Readable.from([Buffer.alloc(10)]);
    const error = await scannerAt(server.port, { maxStreamBytes: 5 }).scan(source, 10).catch((e: unknown) => e);
    expect((error as VirusScanError).code).toBe('TOO_LARGE');
    expect((error as VirusScanError).message).toContain('at most 5');
    expect(connections).toBe(0);
    expect(source.destroyed).toBe(true);
  });

  it('refuses a stream that turns out longer than the limit while it is sent', async () => {
    const server = await fakeClamd(() => undefined);
    closeServer = server.close;
    const error = await scannerAt(server.port, { maxStreamBytes: 100 }).scan(Readable.from([Buffer.alloc(80), Buffer.alloc(80)]), 50).catch((e: unknown) => e);
    expect((error as VirusScanError).code).toBe('TOO_LARGE');
  });

  it('times out when clamd never answers, and the error is retryable', async () => {
    const server = await fakeClamd(() => undefined);
    closeServer = server.close;
    const started = Date.now();
    const error = await scannerAt(server.port, { timeoutMs: 300 }).ping().catch((e: unknown) => e);
    expect((error as VirusScanError).code).toBe('TIMEOUT');
    expect((error as VirusScanError).retryable).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('reports a connection closed without an answer, and an unreachable port, as UNREACHABLE', async () => {
    const server = await fakeClamd((socket) => socket.destroy());
    closeServer = server.close;
    expect(((await scannerAt(server.port).version().catch((e: unknown) => e)) as VirusScanError).code).toBe('UNREACHABLE');
    const closed = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const refused = (await scannerAt(closed).ping().catch((e: unknown) => e)) as VirusScanError;
    expect(refused.code).toBe('UNREACHABLE');
    expect(refused.message).toContain(`tcp://127.0.0.1:${closed}`);
  });

  it('stops reading a reply that never ends', async () => {
    const server = await fakeClamd((socket) => socket.write(Buffer.alloc(10_000, 'A')));
    closeServer = server.close;
    const error = (await scannerAt(server.port).ping().catch((e: unknown) => e)) as VirusScanError;
    expect(error.code).toBe('SCANNER_ERROR');
    expect(error.message).toContain('longer than');
  });

  it('reports a source that fails midway without hanging', async () => {
    const server = await fakeClamd(() => undefined);
    closeServer = server.close;
    const failing = new Readable({
      read() {
        this.destroy(new Error('disk gone'));
      },
    });
    const error = (await scannerAt(server.port).scan(failing, 10).catch((e: unknown) => e)) as VirusScanError;
    expect(error.code).toBe('UNREACHABLE');
    expect(error.message).toContain('disk gone');
  });
});

function catchScanError(run: () => unknown): VirusScanError {
  try {
    run();
  } catch (error) {
    if (error instanceof VirusScanError) return error;
    throw error;
  }
  throw new Error('expected a VirusScanError');
}
