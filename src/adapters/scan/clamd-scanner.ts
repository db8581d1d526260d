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

export type ClamdAddress = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

export interface ClamdOptions {
  address: ClamdAddress;
  /** Deadline of one exchange: connecting, sending every byte of a file and reading the verdict. */
  timeoutMs: number;
  /** clamd's StreamMaxLength: larger files are refused here, before a byte is sent. */
  maxStreamBytes: number;
  /** Bytes per INSTREAM chunk. */
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
    this.chunkBytes = options.chunkBytes ?? 64 * 1024;
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
    return parseScanReply(await this.exchange('INSTREAM', stream));
  }

  private connect(): net.Socket {
    const { address } = this.options;
    return address.kind === 'tcp' ? net.connect({ host: address.host, port: address.port }) : net.connect({ path: address.path });
  }

  /** Sends one command (and a body for INSTREAM) and reads clamd's one-line reply. */
  private exchange(command: ClamdCommand, body?: Readable): Promise<string> {
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
        this.pump(socket, body, () => settled).then(
          () => {
            if (!settled) socket.write(END_OF_STREAM);
          },
          (error: unknown) => {
            if (error instanceof VirusScanError) finish(error);
            else finish(new VirusScanError('UNREACHABLE', `Reading the file for clamd failed: ${error instanceof Error ? error.message : String(error)}`));
          },
        );
      });
    });
  }

  /** Writes the body as INSTREAM chunks, waiting for the socket to drain; stops once the exchange has ended. */
  private async pump(socket: net.Socket, body: Readable, ended: () => boolean): Promise<void> {
    let sent = 0;
    for await (const data of body) {
      const buffer = typeof data === 'string' ? Buffer.from(data) : (data as Buffer);
      for (let offset = 0; offset < buffer.length; offset += this.chunkBytes) {
        if (ended()) return;
        const part = buffer.subarray(offset, offset + this.chunkBytes);
        sent += part.length;
        if (sent > this.maxStreamBytes) {
          throw new VirusScanError('TOO_LARGE', `The file is longer than the ${this.maxStreamBytes} bytes the virus scanner accepts (clamd's StreamMaxLength).`);
        }
        socket.write(chunkHeader(part.length));
        if (!socket.write(part)) await drained(socket);
      }
    }
  }
}

/** Resolves when the socket can take more, or when it is gone (the exchange's own handlers report why). */
function drained(socket: net.Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}
