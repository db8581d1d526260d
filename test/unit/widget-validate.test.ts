import { describe, expect, it } from 'vitest';
import { formatBytes, toPercent } from '../../web/widget/format.js';
import { AbortedError, planParts, runParts, type PartPlan } from '../../web/widget/multipart.js';
import {
  MIB,
  checkFile,
  isFetchableUrl,
  matchesAccept,
  nameFromUrl,
  parseAccept,
  parseChunkSize,
  parseCount,
  parseSize,
  parseSources,
  parseStore,
  parseThreshold,
  signatureIsFresh,
  splitByCount,
} from '../../web/widget/validate.js';

describe('widget: sizes', () => {
  it('parses bytes, decimal and binary units, and refuses the rest', () => {
    expect(parseSize('1048576')).toBe(1_048_576);
    expect(parseSize('10MB')).toBe(10_000_000);
    expect(parseSize('10 mb')).toBe(10_000_000);
    expect(parseSize('5MiB')).toBe(5 * MIB);
    expect(parseSize('1.5GB')).toBe(1_500_000_000);
    expect(parseSize('2KiB')).toBe(2048);
    expect(parseSize('300k')).toBe(300_000);
    expect(parseSize(' 7 B ')).toBe(7);
    for (const bad of ['', 'ten', '10 parsecs', '-5MB', '1e6', '5 M B']) expect(parseSize(bad), bad).toBeNull();
    expect(parseSize(null)).toBeNull();
    expect(parseSize(undefined)).toBeNull();
  });

  it('formats bytes the way people read them', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1500)).toBe('1.5 KB');
    expect(formatBytes(12_000_000)).toBe('12 MB');
    expect(formatBytes(10_000_000)).toBe('10 MB');
    expect(formatBytes(10 * MIB)).toBe('10 MB');
    expect(formatBytes(5 * MIB)).toBe('5.2 MB');
    expect(formatBytes(9_960_000)).toBe('10 MB');
    expect(formatBytes(999_600)).toBe('1 MB');
    expect(formatBytes(4_700_000_000)).toBe('4.7 GB');
    expect(formatBytes(-1)).toBe('?');
  });

  it('computes whole percents that reach 100 only when everything is there', () => {
    expect(toPercent(0, 100)).toBe(0);
    expect(toPercent(50, 100)).toBe(50);
    expect(toPercent(999, 1000)).toBe(99);
    expect(toPercent(9999, 10000)).toBe(99);
    expect(toPercent(100, 100)).toBe(100);
    expect(toPercent(150, 100)).toBe(100);
    expect(toPercent(5, 0)).toBe(0);
  });
});

describe('widget: accept rules', () => {
  const accept = parseAccept(' image/* , .PDF, application/zip, nonsense ');

  it('normalises the attribute like <input accept>', () => {
    expect(accept).toEqual(['image/*', '.pdf', 'application/zip']);
    expect(parseAccept(null)).toEqual([]);
    expect(parseAccept('')).toEqual([]);
  });

  it('matches MIME types, wildcards and extensions', () => {
    expect(matchesAccept({ name: 'a.jpg', type: 'image/jpeg' }, accept)).toBe(true);
    expect(matchesAccept({ name: 'a.svg', type: 'image/svg+xml' }, accept)).toBe(true);
    expect(matchesAccept({ name: 'Report.PDF', type: '' }, accept)).toBe(true);
    expect(matchesAccept({ name: 'report.pdf', type: 'application/pdf' }, accept)).toBe(true);
    expect(matchesAccept({ name: 'x.zip', type: 'application/zip' }, accept)).toBe(true);
    expect(matchesAccept({ name: 'notes.txt', type: 'text/plain' }, accept)).toBe(false);
    expect(matchesAccept({ name: 'video.mp4', type: 'video/mp4' }, accept)).toBe(false);
    // "imagex/…" must not pass as "image/*", nor a bare ".pdf" name as a PDF.
    expect(matchesAccept({ name: 'a', type: 'imagex/png' }, accept)).toBe(false);
    expect(matchesAccept({ name: '.pdf', type: '' }, accept)).toBe(false);
    expect(matchesAccept({ name: 'a.txt', type: 'text/plain; charset=utf-8' }, ['text/plain'])).toBe(true);
    expect(matchesAccept({ name: 'anything', type: '' }, [])).toBe(true);
    expect(matchesAccept({ name: 'anything', type: '' }, ['*/*'])).toBe(true);
  });

  it('reports the first rule a file breaks', () => {
    const limits = { maxSize: 10_000_000, accept };
    expect(checkFile({ name: 'ok.jpg', size: 5, type: 'image/jpeg' }, limits)).toBeNull();
    expect(checkFile({ name: 'big.png', size: 12_000_000, type: 'image/png' }, limits)).toEqual({ kind: 'too-large', size: 12_000_000, limit: 10_000_000 });
    expect(checkFile({ name: 'a.txt', size: 12_000_000, type: 'text/plain' }, limits)).toEqual({ kind: 'not-accepted', accept });
    expect(checkFile({ name: 'empty.jpg', size: 0, type: 'image/jpeg' }, limits)).toEqual({ kind: 'empty' });
    expect(checkFile({ name: 'huge.bin', size: 1e12, type: '' }, { maxSize: null, accept: [] })).toBeNull();
  });
});

describe('widget: counts and attributes', () => {
  it('splits new files at the count limit, in order', () => {
    expect(splitByCount(['a', 'b', 'c'], 1, 3)).toEqual({ taken: ['a', 'b'], refused: ['c'] });
    expect(splitByCount(['a', 'b'], 3, 3)).toEqual({ taken: [], refused: ['a', 'b'] });
    expect(splitByCount(['a', 'b'], 5, 3)).toEqual({ taken: [], refused: ['a', 'b'] });
    expect(splitByCount(['a', 'b'], 0, null)).toEqual({ taken: ['a', 'b'], refused: [] });
  });

  it('reads counts, store modes and sources', () => {
    expect(parseCount('4', 1)).toBe(4);
    expect(parseCount('0', 1)).toBe(1);
    expect(parseCount('x', 7)).toBe(7);
    expect(parseCount(null, 7)).toBe(7);
    expect(parseStore(null)).toBe('auto');
    expect(parseStore('1')).toBe('1');
    expect(parseStore('true')).toBe('1');
    expect(parseStore('0')).toBe('0');
    expect(parseStore('false')).toBe('0');
    expect(parseStore('maybe')).toBe('auto');
    expect([...parseSources(null)]).toEqual(['local', 'url', 'camera']);
    expect([...parseSources('url, LOCAL, fax')]).toEqual(['url', 'local']);
    expect([...parseSources('fax')]).toEqual(['local', 'url', 'camera']);
  });

  it('never goes below what Trove accepts for multipart', () => {
    expect(parseThreshold(null)).toBe(10 * MIB);
    expect(parseThreshold('1MB')).toBe(10 * MIB);
    expect(parseThreshold('50MiB')).toBe(50 * MIB);
    expect(parseChunkSize(null)).toBe(5 * MIB);
    expect(parseChunkSize('1MiB')).toBe(5 * MIB);
    expect(parseChunkSize('8MiB')).toBe(8 * MIB);
  });

  it('accepts only absolute http(s) links, and names them', () => {
    expect(isFetchableUrl('https://example.com/a.jpg')).toBe(true);
    expect(isFetchableUrl(' http://127.0.0.1:8080/x ')).toBe(true);
    expect(isFetchableUrl('ftp://example.com/a')).toBe(false);
    expect(isFetchableUrl('/relative.jpg')).toBe(false);
    expect(isFetchableUrl('javascript:alert(1)')).toBe(false);
    expect(nameFromUrl('https://example.com/pics/My%20Cat.jpg?size=2')).toBe('My Cat.jpg');
    expect(nameFromUrl('https://example.com/')).toBe('example.com');
  });

  it('treats a signature about to expire as expired', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(signatureIsFresh(now / 1000 + 3600, now)).toBe(true);
    expect(signatureIsFresh(now / 1000 + 30, now)).toBe(false);
    expect(signatureIsFresh(now / 1000 - 1, now)).toBe(false);
    expect(signatureIsFresh(Number.NaN, now)).toBe(false);
  });
});

describe('widget: multipart chunk plan', () => {
  it('cuts a file into the parts Trove expects', () => {
    const size = 24 * MIB + 123;
    const parts = planParts(size, 5 * MIB);
    expect(parts).toHaveLength(5);
    expect(parts[0]).toEqual({ index: 0, start: 0, end: 5 * MIB });
    expect(parts[4]).toEqual({ index: 4, start: 20 * MIB, end: size });
    // Contiguous, no gap, no overlap.
    parts.forEach((part, i) => expect(part.start).toBe(i * 5 * MIB));
    expect(planParts(10 * MIB, 5 * MIB)).toHaveLength(2);
    expect(planParts(0, 5 * MIB)).toEqual([]);
    expect(() => planParts(10, 0)).toThrow(RangeError);
  });

  const noSleep = { sleep: async (ms: number) => void delays.push(ms) };
  let delays: number[] = [];

  it('runs parts with bounded concurrency and reports aggregated progress', async () => {
    delays = [];
    const parts = planParts(100, 10);
    let active = 0;
    let peak = 0;
    const seen: number[] = [];
    const progress: number[] = [];
    await runParts({
      parts,
      concurrency: 3,
      signal: new AbortController().signal,
      isRetryable: () => true,
      ...noSleep,
      onProgress: (loaded) => progress.push(loaded),
      onPartDone: (index) => seen.push(index),
      sendPart: async (part, onProgress) => {
        active += 1;
        peak = Math.max(peak, active);
        await new Promise((resolve) => setTimeout(resolve, 2));
        onProgress((part.end - part.start) / 2);
        await new Promise((resolve) => setTimeout(resolve, 2));
        active -= 1;
      },
    });
    expect(peak).toBe(3);
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(progress.at(-1)).toBe(100);
    expect(Math.max(...progress)).toBe(100);
    expect(delays).toEqual([]);
  });

  it('retries a failed part with backoff instead of restarting, and rolls its progress back', async () => {
    delays = [];
    const attempts = new Map<number, number>();
    const progress: number[] = [];
    await runParts({
      parts: planParts(30, 10),
      concurrency: 2,
      signal: new AbortController().signal,
      isRetryable: (error) => error instanceof Error && error.message === 'flaky',
      ...noSleep,
      onProgress: (loaded) => progress.push(loaded),
      sendPart: async (part, onProgress) => {
        const attempt = (attempts.get(part.index) ?? 0) + 1;
        attempts.set(part.index, attempt);
        onProgress(5);
        if (part.index === 1 && attempt <= 2) throw new Error('flaky');
        onProgress(10);
      },
    });
    expect(attempts.get(0)).toBe(1);
    expect(attempts.get(1)).toBe(3);
    expect(attempts.get(2)).toBe(1);
    expect(delays).toEqual([500, 1000]);
    expect(progress.at(-1)).toBe(30);
  });

  it('gives up after three retries (0.5 s, 1 s, 2 s) and stops the other parts', async () => {
    delays = [];
    const aborted: number[] = [];
    const failing = runParts({
      parts: planParts(40, 10),
      concurrency: 2,
      signal: new AbortController().signal,
      isRetryable: () => true,
      ...noSleep,
      sendPart: (part: PartPlan, _onProgress, signal) =>
        part.index === 0
          ? Promise.reject(new Error('down'))
          : new Promise<void>((_resolve, reject) => {
              signal.addEventListener('abort', () => {
                aborted.push(part.index);
                reject(new AbortedError());
              });
            }),
    });
    await expect(failing).rejects.toThrow('down');
    expect(delays).toEqual([500, 1000, 2000]);
    expect(aborted).toEqual([1]);
  });

  it('fails at once on an error retrying cannot fix', async () => {
    delays = [];
    let calls = 0;
    await expect(
      runParts({
        parts: planParts(10, 10),
        concurrency: 1,
        signal: new AbortController().signal,
        isRetryable: () => false,
        ...noSleep,
        sendPart: async () => {
          calls += 1;
          throw new Error('403 token expired');
        },
      }),
    ).rejects.toThrow('403 token expired');
    expect(calls).toBe(1);
    expect(delays).toEqual([]);
  });

  it('skips parts already on the server (resume) and honours cancellation', async () => {
    delays = [];
    const sent: number[] = [];
    const progress: number[] = [];
    await runParts({
      parts: planParts(50, 10),
      done: new Set([0, 2]),
      concurrency: 4,
      signal: new AbortController().signal,
      isRetryable: () => true,
      ...noSleep,
      onProgress: (loaded) => progress.push(loaded),
      sendPart: async (part) => void sent.push(part.index),
    });
    expect(sent.sort()).toEqual([1, 3, 4]);
    expect(progress[0]).toBe(20);

    const controller = new AbortController();
    const running = runParts({
      parts: planParts(50, 10),
      concurrency: 2,
      signal: controller.signal,
      isRetryable: () => true,
      sendPart: (_part, _onProgress, signal) =>
        new Promise<void>((_resolve, reject) => signal.addEventListener('abort', () => reject(new AbortedError()))),
    });
    controller.abort();
    await expect(running).rejects.toBeInstanceOf(AbortedError);
  });
});
