import net from 'node:net';
import type { Readable } from 'node:stream';
import { VirusScanError, type ScanVerdict, type VirusScanner } from '../../ports/virus-scanner.js';
import {
  chunkHeader,
  commandBytes,
  END_OF_STREAM,
  isCompleteReply,
  MAX_REPLY_BYTES,
  parsePing,
  parseScanReply,
  parseVersion,
  replyText,
  type ClamdCommand,
} from './clamd-protocol.js';

/** How far an INSTREAM got: bytes handed to the socket, and whether reading the source failed. */
interface StreamProgress {
  sent: number;
  sourceFailed: boolean;
}

type ClamdAddress = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

interface ClamdOptions {
  address: ClamdAddress;
  /** Deadline of one exchange: connecting, sending every byte of a file and reading the verdict. */
  timeoutMs: number;
  /** clamd's StreamMaxLength: larger files are refused here, before a byte is sent. */
  maxStreamBytes: number;
  /** Bytes per INSTREAM chunk; 256 KiB moves about as fast over loopback TCP as 1 MiB, 64 KiB at about two thirds of that. */
  chunkBytes?: number;
}

export function formatClamdAddress(address: ClamdAddress): string {
  return address.kind === 'tcp' ? `tcp://${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}` : `unix:${address.path}`;
}

/**
 * Talks to a clamd over TCP or a Unix socket, one connection per command. A file's bytes are streamed
 * from its source as they are read, with the socket's backpressure, so memory stays at a chunk or two
 * whatever the file's size.
 */
export class ClamdScanner implements VirusScanner {
  readonly address: string;
  readonly maxStreamBytes: number;
  private readonly chunkBytes: number;

  constructor(private readonly options: ClamdOptions) {
    this.address = formatClamdAddress(options.address);
    this.maxStreamBytes = options.maxStreamBytes;
    this.chunkBytes = options.chunkBytes ?? 256 * 1024;
  }

  async ping(): Promise<void> {
    parsePing(await this.exchange('PING'));
  }

  async version(): Promise<string> {
    return parseVersion(await this.exchange('VERSION'));
  }

  async scan(stream: Readable, size: number): Promise<ScanVerdict> {
    if (size > this.maxStreamBytes) {
      stream.destroy();
      throw new VirusScanError('TOO_LARGE', `The file has ${size} bytes; the virus scanner accepts at most ${this.maxStreamBytes} (clamd's StreamMaxLength).`);
    }
    const progress: StreamProgress = { sent: 0, sourceFailed: false };
    try {
      return parseScanReply(await this.exchange('INSTREAM', stream, progress));
    } catch (error) {
      // clamd answers a stream over its StreamMaxLength and closes; a write that meets the closed
      // connection can lose that answer. A clamd that still answers then refused the stream itself.
      if (error instanceof VirusScanError && error.code === 'UNREACHABLE' && progress.sent > 0 && !progress.sourceFailed) {
        const alive = await this.ping().then(
          () => true,
          () => false,
        );
        if (alive) {
          throw new VirusScanError(
            'TOO_LARGE',
            `clamd at ${this.address} closed the stream after ${progress.sent} of ${size} bytes and still answers: the file is larger than its StreamMaxLength (set TROVE_CLAMD_MAX_STREAM to that limit so such files are not sent).`,
          );
        }
      }
      throw error;
    }
  }

  private connect(): net.Socket {
    const { address } = this.options;
    return address.kind === 'tcp' ? net.connect({ host: address.host, port: address.port }) : net.connect({ path: address.path });
  }

  /** Sends one command (and a body for INSTREAM) and reads clamd's one-line reply. */
  private exchange(command: ClamdCommand, body?: Readable, progress: StreamProgress = { sent: 0, sourceFailed: false }): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const socket = this.connect();
      const chunks: Buffer[] = [];
      let received = 0;
      let settled = false;
      const finish = (error: VirusScanError | null, reply = ''): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        socket.destroy();
        body?.destroy();
        if (error) reject(error);
        else resolve(reply);
      };
      const deadline = setTimeout(
        () => finish(new VirusScanError('TIMEOUT', `clamd at ${this.address} did not answer ${command} within ${this.options.timeoutMs} ms.`)),
        this.options.timeoutMs,
      );
      socket.on('data', (data: Buffer) => {
        chunks.push(data);
        received += data.length;
        const raw = Buffer.concat(chunks);
        if (isCompleteReply(raw)) finish(null, replyText(raw));
        else if (received > MAX_REPLY_BYTES) finish(new VirusScanError('SCANNER_ERROR', `clamd at ${this.address} sent a reply longer than ${MAX_REPLY_BYTES} bytes.`));
      });
      socket.on('error', (error) => finish(new VirusScanError('UNREACHABLE', `clamd at ${this.address}: ${error.message}`)));
      socket.on('close', () => {
        // A reply cut short of its NUL is still what clamd said; no reply at all is a broken exchange.
        if (received > 0) finish(null, replyText(Buffer.concat(chunks)));
        else finish(new VirusScanError('UNREACHABLE', `clamd at ${this.address} closed the connection without answering ${command}.`));
      });
      socket.once('connect', () => {
        socket.write(commandBytes(command));
        if (!body) return;
        this.pump(socket, body, () => settled, progress).then(
          () => {
            if (!settled) socket.write(END_OF_STREAM);
          },
          (error: unknown) => {
            if (error instanceof VirusScanError) return finish(error);
            progress.sourceFailed = true;
            finish(new VirusScanError('UNREACHABLE', `Reading the file for clamd failed: ${error instanceof Error ? error.message : String(error)}`));
          },
        );
      });
    });
  }

  /**
   * Writes the body as INSTREAM chunks, one at a time: each is handed to the socket only after the one
   * before it was written and the event loop has turned once, so a reply that came early (clamd
   * refusing a stream over its StreamMaxLength, then closing) is read before a write meets the closed
   * connection. Stops as soon as the exchange has ended.
   */
  private async pump(socket: net.Socket, body: Readable, ended: () => boolean, progress: StreamProgress): Promise<void> {
    for await (const data of body) {
      const buffer = typeof data === 'string' ? Buffer.from(data) : (data as Buffer);
      for (let offset = 0; offset < buffer.length; offset += this.chunkBytes) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (ended()) return;
        const part = buffer.subarray(offset, offset + this.chunkBytes);
        if (progress.sent + part.length > this.maxStreamBytes) {
          throw new VirusScanError('TOO_LARGE', `The file is longer than the ${this.maxStreamBytes} bytes the virus scanner accepts (clamd's StreamMaxLength).`);
        }
        progress.sent += part.length;
        await written(socket, Buffer.concat([chunkHeader(part.length), part]));
      }
    }
  }
}

/** Resolves once `data` is handed to the system, or the socket is gone (the exchange's own handlers report why). */
function written(socket: net.Socket, data: Buffer): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      socket.off('close', done);
      resolve();
    };
    socket.on('close', done);
    socket.write(data, done);
  });
}
