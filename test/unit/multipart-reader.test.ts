import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { decodeExtendedValue, parseHeaderValue } from '../../src/http/multipart/header-params.js';
import { MultipartReader, multipartBoundary, type MultipartLimits } from '../../src/http/multipart/multipart-reader.js';
import { AppError } from '../../src/errors.js';

const LIMITS: MultipartLimits = { maxParts: 50, maxHeaderBytes: 1024, maxFieldBytes: 1024, maxPreambleBytes: 1024 };

interface ReadPart {
  name: string;
  filename: string | undefined;
  isFile: boolean;
  value: string;
}

function chunked(body: Buffer, sizes: number[]): Readable {
  const chunks: Buffer[] = [];
  let offset = 0;
  for (let i = 0; offset < body.length; i++) {
    const size = sizes[i % sizes.length]!;
    chunks.push(body.subarray(offset, offset + size));
    offset += size;
  }
  return Readable.from(chunks, { objectMode: false });
}

async function readAll(source: Readable, boundary: string, limits = LIMITS, readFiles = true): Promise<ReadPart[]> {
  const reader = new MultipartReader(source, boundary, limits);
  const parts: ReadPart[] = [];
  for (let head = await reader.nextPart(); head !== null; head = await reader.nextPart()) {
    let value = '';
    if (!head.isFile) value = await reader.readFieldValue();
    else if (readFiles) {
      const chunks: Buffer[] = [];
      for await (const chunk of reader.fileStream()) chunks.push(chunk as Buffer);
      value = Buffer.concat(chunks).toString('latin1');
    }
    parts.push({ name: head.name, filename: head.filename, isFile: head.isFile, value });
  }
  return parts;
}

function form(boundary: string, parts: string[], epilogue = ''): Buffer {
  return Buffer.from(parts.map((p) => `--${boundary}\r\n${p}\r\n`).join('') + `--${boundary}--\r\n${epilogue}`, 'latin1');
}

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  const appError = error as AppError;
  expect(appError.statusCode).toBe(400);
  return appError;
}

describe('multipartBoundary', () => {
  it('reads a token or quoted boundary', () => {
    expect(multipartBoundary('multipart/form-data; boundary=abc')).toBe('abc');
    expect(multipartBoundary('Multipart/Form-Data; charset=utf-8; boundary="a b:c"')).toBe('a b:c');
  });

  it('refuses a boundary longer than 70 characters, naming the limit', () => {
    expect(multipartBoundary(`multipart/form-data; boundary=${'a'.repeat(70)}`)).toHaveLength(70);
    for (const length of [71, 300, 5000]) {
      expect(() => multipartBoundary(`multipart/form-data; boundary=${'a'.repeat(length)}`)).toThrow(/at most 70/);
    }
  });

  it('refuses a missing, empty or ill-formed boundary and other media types', () => {
    expect(() => multipartBoundary('multipart/form-data')).toThrow(/no boundary/);
    expect(() => multipartBoundary('multipart/form-data; boundary=""')).toThrow(/no boundary/);
    expect(() => multipartBoundary('multipart/form-data; boundary="ab "')).toThrow(/characters/);
    expect(() => multipartBoundary('multipart/form-data; boundary="a\u0001b"')).toThrow(/characters/);
    expect(() => multipartBoundary('text/plain; boundary=abc')).toThrow(/Expected a multipart/);
    expect(() => multipartBoundary(undefined)).toThrow(/Expected a multipart/);
  });
});

describe('header parameters', () => {
  it('reads tokens, quoted strings with escapes, and extended values', () => {
    const value = parseHeaderValue(`form-data; name="a\\"b;c"; filename=plain.txt; filename*=UTF-8''%E2%82%AC.txt`);
    expect(value.type).toBe('form-data');
    expect(value.params.get('name')).toBe('a"b;c');
    expect(value.params.get('filename')).toBe('plain.txt');
    expect(value.params.get('filename*')).toBe('€.txt');
  });

  it('decodes UTF-8 and ISO-8859-1, and gives up on anything else rather than guess', () => {
    expect(decodeExtendedValue("UTF-8''%0d%0a")).toBe('\r\n');
    expect(decodeExtendedValue("iso-8859-1'en'%E9")).toBe('é');
    expect(decodeExtendedValue("UTF-8''%ff%fe")).toBeNull();
    expect(decodeExtendedValue("UTF-8''%")).toBeNull();
    expect(decodeExtendedValue("UTF-8''%zz")).toBeNull();
    expect(decodeExtendedValue("koi8-r''%01")).toBeNull();
    expect(decodeExtendedValue('%01')).toBeNull();
  });
});

describe('MultipartReader', () => {
  const boundary = '----trove-boundary';
  const body = form(
    boundary,
    [
      'Content-Disposition: form-data; name="UPLOADCARE_PUB_KEY"\r\n\r\npk',
      `Content-Disposition: form-data; name="file"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n${'x\r\n--'.repeat(300)}end`,
      'Content-Disposition: form-data; name="empty"\r\n\r\n',
      'Content-Disposition: form-data; name="second"; filename=""\r\n\r\n\r\n-- not a boundary',
    ],
    'epilogue ignored',
  );
  const expected: ReadPart[] = [
    { name: 'UPLOADCARE_PUB_KEY', filename: undefined, isFile: false, value: 'pk' },
    { name: 'file', filename: 'a.bin', isFile: true, value: `${'x\r\n--'.repeat(300)}end` },
    { name: 'empty', filename: undefined, isFile: false, value: '' },
    { name: 'second', filename: '', isFile: true, value: '\r\n-- not a boundary' },
  ];

  it('reads the same parts however the body is split into chunks', async () => {
    for (const sizes of [[body.length], [1], [2, 3], [7, 1, 70], [19, 23], [64 * 1024]]) {
      expect(await readAll(chunked(body, sizes), boundary)).toEqual(expected);
    }
  });

  it('discards the rest of a file nobody read, and goes on with the next part', async () => {
    const parts = await readAll(chunked(body, [5, 11]), boundary, LIMITS, false);
    expect(parts.map((p) => [p.name, p.value])).toEqual([
      ['UPLOADCARE_PUB_KEY', 'pk'],
      ['file', ''],
      ['empty', ''],
      ['second', ''],
    ]);
  });

  it('keeps a file part whose filename* decodes to control characters a file (no stall on a large body)', async () => {
    const big = 'y'.repeat(200_000);
    const odd = form(boundary, [
      `Content-Disposition: form-data; name="file"; filename*=UTF-8''%0d%0a%01\r\nContent-Type: text/plain\r\n\r\n${big}`,
      'Content-Disposition: form-data; name="after"\r\n\r\nstill read',
    ]);
    const parts = await readAll(chunked(odd, [16_384]), boundary);
    expect(parts[0]).toEqual({ name: 'file', filename: '\r\n\u0001', isFile: true, value: big });
    expect(parts[1]).toEqual({ name: 'after', filename: undefined, isFile: false, value: 'still read' });
  });

  it('treats a filename* it cannot decode as a file without a name', async () => {
    const parts = await readAll(chunked(form(boundary, [`Content-Disposition: form-data; name="f"; filename*=UTF-8''%ff\r\n\r\nbytes`]), [3]), boundary);
    expect(parts).toEqual([{ name: 'f', filename: undefined, isFile: true, value: 'bytes' }]);
  });

  it('allows a preamble and whitespace after a boundary', async () => {
    const raw = Buffer.from(`preamble\r\n--${boundary}  \r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--${boundary}--`);
    expect(await readAll(chunked(raw, [4]), boundary)).toEqual([{ name: 'a', filename: undefined, isFile: false, value: '1' }]);
  });

  it('refuses malformed bodies with a 400 that says what is wrong', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['a body without the boundary', 'just text', /no boundary line/],
      ['a body cut inside a part', `--${boundary}\r\nContent-Disposition: form-data; name="a"\r\n\r\npartial`, /ended inside a part/],
      ['a body cut inside headers', `--${boundary}\r\nContent-Disposition: form-da`, /inside the headers/],
      ['a part without Content-Disposition', `--${boundary}\r\nContent-Type: text/plain\r\n\r\nx\r\n--${boundary}--`, /no Content-Disposition/],
      ['a part without a name', `--${boundary}\r\nContent-Disposition: form-data\r\n\r\nx\r\n--${boundary}--`, /no field name/],
      ['a part that is not form-data', `--${boundary}\r\nContent-Disposition: attachment; name="a"\r\n\r\nx\r\n--${boundary}--`, /not form-data/],
      ['garbage after a boundary', `--${boundary}garbage\r\n`, /something other than a line break/],
      ['a header line without a name', `--${boundary}\r\n: x\r\n\r\nx\r\n--${boundary}--`, /header line without a name/],
      ['no closing boundary', `--${boundary}\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--${boundary}`, /ended after a boundary line/],
    ];
    for (const [, raw, message] of cases) {
      const error = await refusal(readAll(chunked(Buffer.from(raw), [3]), boundary));
      expect(error.message).toMatch(message);
      expect(error.code).toBe('PostRequestParserFailedError');
    }
  });

  it('enforces its limits while reading, before buffering more than they allow', async () => {
    const longField = form(boundary, [`Content-Disposition: form-data; name="big"\r\n\r\n${'v'.repeat(2000)}`]);
    expect((await refusal(readAll(chunked(longField, [100]), boundary))).message).toMatch(/Field "big" is longer than 1024 bytes/);

    const longHeaders = form(boundary, [`Content-Disposition: form-data; name="a"\r\nX-Pad: ${'p'.repeat(5000)}\r\n\r\nx`]);
    expect((await refusal(readAll(chunked(longHeaders, [100]), boundary))).message).toMatch(/headers of part 1 are longer/);

    const manyParts = form(boundary, Array.from({ length: 51 }, (_, i) => `Content-Disposition: form-data; name="f${i}"\r\n\r\n${i}`));
    const tooMany = await refusal(readAll(chunked(manyParts, [1000]), boundary));
    expect(tooMany.code).toBe('RequestFiledsNumberLimitExceededError');

    const longPreamble = Buffer.from(`${'z'.repeat(5000)}\r\n--${boundary}--`);
    expect((await refusal(readAll(chunked(longPreamble, [100]), boundary))).message).toMatch(/first 1024 bytes/);
  });

  it('never turns a broken body into an uncaught error on a file stream its consumer dropped', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const cut = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="x"\r\n\r\n${'q'.repeat(100_000)}`);
      const reader = new MultipartReader(chunked(cut, [4096]), boundary, LIMITS);
      const head = await reader.nextPart();
      expect(head?.isFile).toBe(true);
      // A consumer that gives up on a part may only resume its stream, with no listener left.
      reader.fileStream().resume();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect((await refusal(reader.nextPart())).message).toMatch(/ended inside a part/);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('reports a source that closes before its end as the client going away', async () => {
    const source = new Readable({ read() {} });
    source.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="x"\r\n\r\nsome`));
    const reader = new MultipartReader(source, boundary, LIMITS);
    const head = await reader.nextPart();
    expect(head?.isFile).toBe(true);
    const stream = reader.fileStream();
    const consumed = (async () => {
      for await (const _chunk of stream) {
        // reading until it fails
      }
    })();
    setTimeout(() => source.destroy(), 20);
    const error = await consumed.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('ClientAborted');
  });
});
