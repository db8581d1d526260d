import { Readable } from 'node:stream';
import { AppError } from '../../errors.js';
import { parseHeaderValue } from './header-params.js';

/**
 * A pull parser for multipart/form-data (RFC 7578 over RFC 2046). The body is read only as fast as
 * its consumer reads: a file part's bytes flow through its own stream, and asking for the next part
 * first discards whatever is left of the current one, so no part can be left waiting for a reader.
 * Every malformed body ends in an AppError with a 400 that says what is wrong.
 */
export interface MultipartLimits {
  /** Parts of any kind in one body. */
  maxParts: number;
  /** Bytes of one part's header block. */
  maxHeaderBytes: number;
  /** Bytes of one non-file field's value. */
  maxFieldBytes: number;
  /** Bytes before the first boundary and after the last one. */
  maxPreambleBytes: number;
}

interface PartHead {
  /** The form field's name (Content-Disposition `name`). */
  name: string;
  /** Present (possibly empty) for a file part: `filename*` when it decodes, else `filename`. */
  filename: string | undefined;
  isFile: boolean;
  contentType: string | undefined;
}

/** RFC 2046: 1 to 70 characters from this set, not ending in a space. */
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;
const MAX_BOUNDARY_LENGTH = 70;

function malformed(message: string): AppError {
  return new AppError('PostRequestParserFailedError', 400, `Malformed multipart/form-data body: ${message}`);
}

/** The boundary of a `multipart/form-data` Content-Type, or a 400 saying why there is none. */
export function multipartBoundary(contentType: string | undefined): string {
  const parsed = parseHeaderValue(contentType ?? '');
  if (parsed.type !== 'multipart/form-data') {
    throw new AppError('PostRequestParserFailedError', 400, 'Expected a multipart/form-data body.');
  }
  const boundary = parsed.params.get('boundary');
  if (boundary === undefined || boundary === '') {
    throw malformed('the Content-Type header has no boundary parameter.');
  }
  if (boundary.length > MAX_BOUNDARY_LENGTH) {
    throw malformed(`the boundary is ${boundary.length} characters long; at most ${MAX_BOUNDARY_LENGTH} are allowed (RFC 2046).`);
  }
  if (!BOUNDARY.test(boundary)) {
    throw malformed('the boundary holds characters RFC 2046 does not allow.');
  }
  return boundary;
}

type State = 'preamble' | 'after-delimiter' | 'headers' | 'body' | 'done';

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

export class MultipartReader {
  private readonly delimiter: Buffer;
  /** Bytes received and not yet parsed. The body is prefixed with CRLF so the first boundary looks like every other. */
  private pending: Buffer = CRLF;
  private state: State = 'preamble';
  private sourceEnded = false;
  private parts = 0;
  private discarded = 0;
  private current: { head: PartHead; stream: Readable | null } | null = null;
  /** A read the current file stream started; the reader may not pull from the source twice at once. */
  private streamRead: Promise<unknown> | null = null;

  constructor(
    private readonly source: Readable,
    boundary: string,
    private readonly limits: MultipartLimits,
  ) {
    this.delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  }

  /** The next part's head, or null after the closing boundary. Unread bytes of the current part are discarded. */
  async nextPart(): Promise<PartHead | null> {
    if (this.current) {
      this.current.stream?.destroy();
      if (this.streamRead) await this.streamRead;
      this.streamRead = null;
      while ((await this.readPartData()) !== null) {
        // discarding the rest of a part nobody read
      }
      this.current = null;
    }
    for (;;) {
      switch (this.state) {
        case 'done':
          return null;
        case 'preamble':
          await this.skipPreamble();
          break;
        case 'after-delimiter':
          await this.readDelimiterEnd();
          break;
        case 'headers': {
          const head = await this.readHeaders();
          this.current = { head, stream: null };
          this.state = 'body';
          return head;
        }
        case 'body':
          throw new Error('MultipartReader: the body state is left through readPartData');
      }
    }
  }

  /** The whole value of the current (non-file) part as text, refused beyond the field size limit. */
  async readFieldValue(): Promise<string> {
    const name = this.current?.head.name ?? '';
    const chunks: Buffer[] = [];
    let size = 0;
    for (let chunk = await this.readPartData(); chunk !== null; chunk = await this.readPartData()) {
      size += chunk.length;
      if (size > this.limits.maxFieldBytes) {
        throw new AppError(
          'PostRequestParserFailedError',
          400,
          `Field "${name.slice(0, 100)}" is longer than ${this.limits.maxFieldBytes} bytes; send large values as files.`,
        );
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /** A stream of the current part's bytes. Destroying it discards the rest of the part. */
  fileStream(): Readable {
    const current = this.current;
    if (!current) throw new Error('MultipartReader: no current part');
    const stream = new Readable({
      highWaterMark: 64 * 1024,
      read: () => {
        const read = this.readPartData();
        this.streamRead = read.catch(() => undefined);
        read.then(
          (chunk) => {
            if (!stream.destroyed) stream.push(chunk);
          },
          (error: unknown) => stream.destroy(error instanceof Error ? error : new Error(String(error))),
        );
      },
    });
    // The reader reports a broken body through nextPart() as well, so a stream its consumer dropped
    // (or only resumed) must not turn the same failure into an uncaught 'error' event.
    stream.on('error', () => undefined);
    current.stream = stream;
    return stream;
  }

  /** The next bytes of the current part, or null at its end. */
  private async readPartData(): Promise<Buffer | null> {
    for (;;) {
      if (this.state !== 'body') return null;
      const delimiterLength = this.delimiter.length;
      const at = this.pending.indexOf(this.delimiter);
      if (at !== -1) {
        const data = this.pending.subarray(0, at);
        this.pending = this.pending.subarray(at + delimiterLength);
        this.state = 'after-delimiter';
        return data.length > 0 ? data : null;
      }
      // A delimiter may start in the last bytes and end in the next chunk: keep those back.
      const safe = this.pending.length - (delimiterLength - 1);
      if (safe > 0) {
        const data = this.pending.subarray(0, safe);
        this.pending = this.pending.subarray(safe);
        return data;
      }
      const chunk = await this.nextChunk();
      if (chunk === null) throw malformed('the body ended inside a part (no closing boundary).');
      const joined = this.joinTail(chunk);
      if (joined) return joined;
    }
  }

  /**
   * Appends `chunk` to the short tail kept back in `pending` without copying the whole chunk when
   * no delimiter straddles the two: the tail is then returned as data and the chunk becomes `pending`.
   */
  private joinTail(chunk: Buffer): Buffer | null {
    const tail = this.pending;
    if (tail.length === 0 || chunk.length < this.delimiter.length) {
      this.pending = tail.length === 0 ? chunk : Buffer.concat([tail, chunk]);
      return null;
    }
    const seam = Buffer.concat([tail, chunk.subarray(0, this.delimiter.length - 1)]);
    if (seam.indexOf(this.delimiter) !== -1) {
      this.pending = Buffer.concat([tail, chunk]);
      return null;
    }
    this.pending = chunk;
    return tail;
  }

  private async skipPreamble(): Promise<void> {
    for (;;) {
      const at = this.pending.indexOf(this.delimiter);
      if (at !== -1) {
        this.discarded += at;
        this.pending = this.pending.subarray(at + this.delimiter.length);
        this.state = 'after-delimiter';
        return;
      }
      const keep = Math.min(this.pending.length, this.delimiter.length - 1);
      this.discarded += this.pending.length - keep;
      this.pending = this.pending.subarray(this.pending.length - keep);
      if (this.discarded > this.limits.maxPreambleBytes) {
        throw malformed(`no boundary line within the first ${this.limits.maxPreambleBytes} bytes (does the body use the boundary the Content-Type names?).`);
      }
      if (!(await this.fill())) throw malformed('the body holds no boundary line (does it use the boundary the Content-Type names?).');
    }
  }

  /** After `--boundary`: `--` closes the body; otherwise optional whitespace, then CRLF before the next part. */
  private async readDelimiterEnd(): Promise<void> {
    for (;;) {
      if (this.pending.length >= 2 && this.pending[0] === 0x2d && this.pending[1] === 0x2d) {
        this.state = 'done';
        await this.discardEpilogue();
        return;
      }
      let i = 0;
      while (i < this.pending.length && (this.pending[i] === 0x20 || this.pending[i] === 0x09)) i++;
      if (i + 1 < this.pending.length) {
        if (this.pending[i] !== 0x0d || this.pending[i + 1] !== 0x0a) {
          throw malformed('a boundary line is followed by something other than a line break.');
        }
        this.pending = this.pending.subarray(i + 2);
        if (++this.parts > this.limits.maxParts) {
          throw new AppError('RequestFiledsNumberLimitExceededError', 400, `Too many parts in one form: at most ${this.limits.maxParts}.`);
        }
        this.state = 'headers';
        return;
      }
      if (i > 256) throw malformed('a boundary line is followed by too much whitespace.');
      if (!(await this.fill())) throw malformed('the body ended after a boundary line (no closing boundary).');
    }
  }

  private async readHeaders(): Promise<PartHead> {
    for (;;) {
      // A part without headers starts with the blank line at once.
      const end = this.pending.length >= 2 && this.pending[0] === 0x0d && this.pending[1] === 0x0a ? -2 : this.pending.indexOf(HEADER_END);
      if (end !== -1) {
        const block = end === -2 ? '' : this.pending.subarray(0, end).toString('utf8');
        this.pending = this.pending.subarray(end === -2 ? 2 : end + 4);
        return this.partHead(block);
      }
      if (this.pending.length > this.limits.maxHeaderBytes) {
        throw malformed(`the headers of part ${this.parts} are longer than ${this.limits.maxHeaderBytes} bytes.`);
      }
      if (!(await this.fill())) throw malformed(`the body ended inside the headers of part ${this.parts}.`);
    }
  }

  private partHead(block: string): PartHead {
    if (block.length > this.limits.maxHeaderBytes) {
      throw malformed(`the headers of part ${this.parts} are longer than ${this.limits.maxHeaderBytes} bytes.`);
    }
    const headers = new Map<string, string>();
    for (const line of block.split('\r\n')) {
      if (line === '') continue;
      const colon = line.indexOf(':');
      if (colon <= 0) throw malformed(`part ${this.parts} has a header line without a name.`);
      const name = line.slice(0, colon).trim().toLowerCase();
      if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
    }
    const disposition = headers.get('content-disposition');
    if (disposition === undefined) throw malformed(`part ${this.parts} has no Content-Disposition header.`);
    const parsed = parseHeaderValue(disposition);
    if (parsed.type !== 'form-data') throw malformed(`part ${this.parts} is not form-data (Content-Disposition: ${parsed.type.slice(0, 40)}).`);
    const name = parsed.params.get('name*') ?? parsed.params.get('name');
    if (name === undefined) throw malformed(`part ${this.parts} has no field name.`);
    const isFile = parsed.params.has('filename') || parsed.params.has('filename*') || hasExtendedFilename(disposition);
    const filename = parsed.params.get('filename*') ?? parsed.params.get('filename');
    const contentType = headers.get('content-type');
    return { name, filename: isFile ? filename : undefined, isFile, contentType: contentType === undefined ? undefined : parseHeaderValue(contentType).type };
  }

  private async discardEpilogue(): Promise<void> {
    let discarded = this.pending.length;
    this.pending = Buffer.alloc(0);
    while (discarded <= this.limits.maxPreambleBytes && (await this.fill())) {
      discarded += this.pending.length;
      this.pending = Buffer.alloc(0);
    }
  }

  /** Appends the next chunk of the source to `pending`; false when the source has ended. */
  private async fill(): Promise<boolean> {
    const chunk = await this.nextChunk();
    if (chunk === null) return false;
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    return true;
  }

  private async nextChunk(): Promise<Buffer | null> {
    const source = this.source;
    for (;;) {
      if (this.sourceEnded) return null;
      const chunk: unknown = source.read();
      if (chunk !== null) return Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      if (source.readableEnded) {
        this.sourceEnded = true;
        return null;
      }
      if (source.destroyed) throw clientGone();
      await new Promise<void>((resolve, reject) => {
        const settle = (error?: Error) => {
          source.off('readable', onReadable);
          source.off('end', onEnd);
          source.off('error', onError);
          source.off('close', onClose);
          if (error) reject(error);
          else resolve();
        };
        const onReadable = () => settle();
        const onEnd = () => {
          this.sourceEnded = true;
          settle();
        };
        const onError = (error: Error) => settle(error);
        const onClose = () => settle(source.readableEnded ? undefined : clientGone());
        source.on('readable', onReadable);
        source.on('end', onEnd);
        source.on('error', onError);
        source.on('close', onClose);
      });
    }
  }
}

/** `filename*` whose value could not be decoded still marks a file part. */
function hasExtendedFilename(disposition: string): boolean {
  return /;\s*filename\*\s*=/i.test(disposition);
}

function clientGone(): AppError {
  return new AppError('ClientAborted', 400, 'The client closed the connection before the request body was complete; nothing was saved.');
}
