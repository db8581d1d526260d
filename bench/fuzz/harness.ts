/**
 * Drives one target against a running server: cases are generated from (seed, index), sent over
 * several keep-alive connections at once, judged, counted; the server's memory is sampled; the
 * first failure of each kind is shrunk to a small reproducer.
 */
import { fork } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Fixtures } from './fixtures.js';
import { Connection, framingIsAmbiguous, printable, serialize, type FuzzRequest, type Outcome } from './http-client.js';
import { judge, knownIssue, type Verdict } from './oracle.js';
import { caseRng } from './rng.js';
import type { FuzzCase, Target } from './targets/common.js';

export interface ServerHandle {
  url: string;
  port: number;
  /** Resident memory of the server process in bytes, or null when it cannot be read. */
  rssBytes(): Promise<number | null>;
  /** Resolves with a reason when the server process ends on its own. */
  exited: Promise<string>;
  /** The end of the server's log: what it said before it died. */
  logTail(): Promise<string>;
  /** Exceptions nothing caught, reported by a server started to survive them (each would end a real Trove). */
  onUncaught(listener: (stack: string) => void): void;
  close(): Promise<void>;
}

const here = path.dirname(fileURLToPath(import.meta.url));

/** The server in a child process (what full runs use): its RSS is its own, and a wedged server cannot stall the fuzzer. */
export async function spawnServer(logPath: string, options: { surviveCrashes?: boolean } = {}): Promise<ServerHandle> {
  const log = createWriteStream(logPath);
  const child = fork(path.join(here, 'server-main.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, FUZZ_LOG_LEVEL: process.env.FUZZ_LOG_LEVEL ?? 'error', FUZZ_SURVIVE_CRASHES: options.surviveCrashes ? '1' : '0' },
  });
  const uncaught: Array<(stack: string) => void> = [];
  child.on('message', (message: { type?: string; stack?: string }) => {
    if (message.type === 'uncaught') for (const listener of uncaught) listener(message.stack ?? '');
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let closing = false;
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => !closing && resolve(`server exited (code ${code}, signal ${signal})`)));
  const ready = await new Promise<{ url: string; port: number }>((resolve, reject) => {
    child.on('message', (message: { type?: string; url?: string; port?: number }) => {
      if (message.type === 'ready') resolve(message as { url: string; port: number });
    });
    void exited.then((reason) => reject(new Error(`${reason} before it was ready; see ${logPath}`)));
  });
  const pid = child.pid;
  return {
    url: ready.url,
    port: ready.port,
    exited,
    onUncaught(listener) {
      uncaught.push(listener);
    },
    async logTail() {
      const text = await readFile(logPath, 'utf8').catch(() => '');
      return text.slice(-4000);
    },
    async rssBytes() {
      if (pid === undefined) return null;
      try {
        const status = await readFile(`/proc/${pid}/status`, 'utf8');
        const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
        return kb ? Number(kb) * 1024 : null;
      } catch {
        return null;
      }
    },
    async close() {
      closing = true;
      if (child.exitCode !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
      log.end();
    },
  };
}

/** The server in this process (the test slice): quicker to start; RSS then includes the fuzzer. */
export async function inlineServer(): Promise<ServerHandle> {
  const { startFuzzTrove } = await import('./trove.js');
  const trove = await startFuzzTrove();
  return {
    url: trove.url,
    port: trove.port,
    exited: new Promise<string>(() => undefined),
    logTail: async () => '',
    onUncaught: () => undefined,
    rssBytes: async () => process.memoryUsage().rss,
    close: () => trove.close(),
  };
}

export interface FailureRecord {
  index: number;
  signature: string;
  known: string | null;
  status: string;
  detail: string;
  /** The request as sent, printable (CR shown as \r, other bytes as \xNN). */
  request: string;
  /** The same bytes, exactly, for replaying with any tool. */
  requestBase64: string;
  /** A smaller request that fails the same way, when shrinking found one. */
  minimized?: { request: string; requestBase64: string; attempts: number };
}

export interface RunReport {
  target: string;
  seed: number;
  start: number;
  cases: number;
  connections: number;
  deadlineMs: number;
  durationMs: number;
  casesPerSecond: number;
  statuses: Record<string, number>;
  /** Cases per kind, and their mean answer time in ms. */
  kinds: Record<string, { count: number; meanMs: number }>;
  failures: number;
  knownFailures: number;
  failureSignatures: Record<string, { count: number; known: string | null; firstIndex: number }>;
  kept: FailureRecord[];
  peakRssBytes: number | null;
  startRssBytes: number | null;
  endRssBytes: number | null;
  slowest: Array<{ index: number; ms: number; status: string; kind: string }>;
  /** Server processes that died during the run (each is a failure; the run goes on with a new server). */
  crashes: number;
  serverExit: string | null;
}

export interface RunOptions {
  target: Target;
  fixtures: Fixtures;
  server: ServerHandle;
  seed: number;
  cases: number;
  start?: number;
  connections?: number;
  deadlineMs?: number;
  /** Failures kept in full per signature (all are counted). */
  keepPerSignature?: number;
  shrink?: boolean;
  progress?: (line: string) => void;
  progressEveryMs?: number;
  /** A new server and fixtures after a crash; without it a crash ends the run. */
  restart?: () => Promise<{ server: ServerHandle; fixtures: Fixtures }>;
  maxRestarts?: number;
  /** Asked before each case: true ends the run early (the report covers what was sent). */
  shouldStop?: () => boolean;
  /** Called with the counts so far at every progress tick, so a run stopped early still leaves a report. */
  checkpoint?: (report: RunReport) => void;
}

export function generateCase(target: Target, fixtures: Fixtures, seed: number, index: number): FuzzCase {
  return target.generate(caseRng(seed, index), fixtures);
}

export async function sendOnce(port: number, request: FuzzRequest, deadlineMs: number, connection = new Connection(port)): Promise<Outcome> {
  return connection.send(serialize(request, `127.0.0.1:${port}`), {
    isHead: request.method === 'HEAD',
    deadlineMs,
    closeAfter: framingIsAmbiguous(request),
  });
}

function signatureOf(verdict: Verdict): string | null {
  return verdict.ok ? null : verdict.signature;
}

/** Smaller variants of a request: fewer headers, query parameters, path segments, body bytes. */
function* shrinkCandidates(request: FuzzRequest): Generator<FuzzRequest> {
  if (request.raw) {
    for (let parts = 2; parts <= 64; parts *= 2) {
      const size = Math.ceil(request.raw.length / parts);
      for (let at = 0; at < request.raw.length; at += size) yield { ...request, raw: Buffer.concat([request.raw.subarray(0, at), request.raw.subarray(at + size)]) };
    }
    return;
  }
  for (let i = 0; i < request.headers.length; i++) yield { ...request, headers: request.headers.filter((_, j) => j !== i) };
  if (request.framing === 'chunked') yield { ...request, framing: 'length' };
  const [pathPart, query] = request.target.split(/\?(.*)/s, 2) as [string, string | undefined];
  if (query !== undefined) {
    yield { ...request, target: pathPart };
    const params = query.split('&');
    for (let i = 0; i < params.length; i++) yield { ...request, target: `${pathPart}?${params.filter((_, j) => j !== i).join('&')}` };
  }
  const segments = pathPart.split('/');
  for (let i = segments.length - 1; i >= 2; i--) {
    if (segments[i] === '') continue;
    yield { ...request, target: [...segments.slice(0, i), ...segments.slice(i + 1)].join('/') + (query !== undefined ? `?${query}` : '') };
  }
  for (let parts = 2; parts <= 128 && request.body.length > 0; parts *= 2) {
    const size = Math.ceil(request.body.length / parts);
    for (let at = 0; at < request.body.length; at += size) yield { ...request, body: Buffer.concat([request.body.subarray(0, at), request.body.subarray(at + size)]) };
  }
}

/** Greedy shrinking: take any smaller request that fails with the same signature, until none does or the budget is spent. */
export async function shrink(fuzzCase: FuzzCase, signature: string, port: number, deadlineMs: number, budget: { attempts: number; ms: number }) {
  let current = fuzzCase.request;
  let attempts = 0;
  const started = Date.now();
  let progressed = true;
  while (progressed && attempts < budget.attempts && Date.now() - started < budget.ms) {
    progressed = false;
    for (const candidate of shrinkCandidates(current)) {
      if (attempts >= budget.attempts || Date.now() - started >= budget.ms) break;
      attempts++;
      const connection = new Connection(port);
      const outcome = await sendOnce(port, candidate, deadlineMs, connection);
      connection.close();
      if (signatureOf(judge({ ...fuzzCase, request: candidate }, outcome)) === signature) {
        current = candidate;
        progressed = true;
        break;
      }
    }
  }
  return { request: current, attempts };
}

export async function runFuzz(options: RunOptions): Promise<RunReport> {
  const { target, seed } = options;
  const start = options.start ?? 0;
  const end = start + options.cases;
  const connections = options.connections ?? 12;
  const deadlineMs = options.deadlineMs ?? 5_000;
  const keep = options.keepPerSignature ?? 3;
  const statuses: Record<string, number> = {};
  const kinds: Record<string, { count: number; meanMs: number }> = {};
  const signatures: RunReport['failureSignatures'] = {};
  const kept: FailureRecord[] = [];
  const firstCase = new Map<string, FuzzCase & { index: number }>();
  const slowest: RunReport['slowest'] = [];
  let failures = 0;
  let knownFailures = 0;
  let done = 0;
  let crashes = 0;
  let serverExit: string | null = null;

  /** The server in use; replaced after a crash, with a new generation number. */
  let live = { server: options.server, fixtures: options.fixtures, generation: 0, dead: false };
  let restarting: Promise<void> | null = null;
  const inFlight = new Map<number, { fuzzCase: FuzzCase; bytes: Buffer; generation: number }>();

  const record = (index: number, fuzzCase: FuzzCase, bytes: Buffer, verdict: Extract<Verdict, { ok: false }>, known: string | null) => {
    failures++;
    if (known) knownFailures++;
    const entry = (signatures[verdict.signature] ??= { count: 0, known, firstIndex: index });
    entry.count++;
    if (!firstCase.has(verdict.signature)) firstCase.set(verdict.signature, { ...fuzzCase, index });
    if (entry.count <= keep) {
      kept.push({ index, signature: verdict.signature, known, status: verdict.status, detail: verdict.detail, request: printable(bytes), requestBase64: bytes.toString('base64') });
    }
  };

  const watch = (current: typeof live) => {
    void current.server.exited.then(async (reason) => {
      current.dead = true;
      crashes++;
      const tail = await current.server.logTail();
      const cause = /^(\w*Error|\w+:.*Error)[^\n]*|throw er;.*|FATAL.*$/m.exec(tail)?.[0] ?? reason;
      const victims = [...inFlight].filter(([, flight]) => flight.generation === current.generation).map(([index]) => index);
      for (const [index, flight] of inFlight) {
        if (flight.generation !== current.generation) continue;
        statuses['server crash'] = (statuses['server crash'] ?? 0) + 1;
        done++;
        record(index, flight.fuzzCase, flight.bytes, { ok: false, status: 'server crash', signature: `server crash: ${cause.slice(0, 160)}`, detail: `${reason}; one of the cases in flight killed it (find which with --replay ${victims.join(',')}). Log tail:\n${tail.slice(-1500)}` }, null);
        inFlight.delete(index);
      }
      if (!options.restart || crashes > (options.maxRestarts ?? 20)) {
        serverExit = reason;
        return;
      }
      restarting = (async () => {
        const next = await options.restart!();
        live = { ...next, generation: current.generation + 1, dead: false };
        watch(live);
        listen(live);
        restarting = null;
      })();
    });
  };
  watch(live);
  const listen = (current: typeof live) =>
    current.server.onUncaught((stack) => {
      const flights = [...inFlight].filter(([, flight]) => flight.generation === current.generation);
      const first = flights[0];
      if (!first) return;
      const [index, flight] = first;
      const cause = stack.split('\n')[0] ?? 'uncaught exception';
      record(index, flight.fuzzCase, flight.bytes, { ok: false, status: 'uncaught exception', signature: `uncaught exception (would end the process): ${cause.slice(0, 160)}`, detail: `one of the cases in flight threw it (find which with --replay ${flights.map(([i]) => i).join(',')}):\n${stack.slice(0, 1500)}` }, null);
    });
  listen(live);

  let peakRss = await live.server.rssBytes();
  const startRss = peakRss;
  const sampler = setInterval(() => {
    void live.server.rssBytes().then((rss) => {
      if (rss !== null && (peakRss === null || rss > peakRss)) peakRss = rss;
    });
  }, 250);

  const started = performance.now();
  const snapshot = (endRss: number | null): RunReport => {
    const durationMs = performance.now() - started;
    return {
      target: target.name,
      seed,
      start,
      cases: done,
      connections,
      deadlineMs,
      durationMs: Math.round(durationMs),
      casesPerSecond: Math.round((done * 1000) / durationMs),
      statuses,
      kinds,
      failures,
      knownFailures,
      failureSignatures: signatures,
      kept,
      peakRssBytes: peakRss,
      startRssBytes: startRss,
      endRssBytes: endRss,
      slowest,
      crashes,
      serverExit,
    };
  };
  let lastDone = 0;
  let lastAt = started;
  const ticker = setInterval(() => {
    const now = performance.now();
    const rate = ((done - lastDone) * 1000) / (now - lastAt);
    lastDone = done;
    lastAt = now;
    const top = Object.entries(statuses).sort((a, b) => b[1] - a[1]).slice(0, 8).map(([s, n]) => `${s}:${n}`).join(' ');
    void live.server.rssBytes().then((rss) => {
      options.checkpoint?.(snapshot(rss));
      options.progress?.(
        `[${target.name}] ${done}/${options.cases} (${((100 * done) / options.cases).toFixed(1)}%) ${rate.toFixed(0)}/s | ${top} | failures ${failures} (known ${knownFailures}, crashes ${crashes}) | rss ${rss === null ? '?' : (rss / 2 ** 20).toFixed(0)} MiB, peak ${peakRss === null ? '?' : (peakRss / 2 ** 20).toFixed(0)} MiB`,
      );
    });
  }, options.progressEveryMs ?? 10_000);

  let next = start;
  const worker = async () => {
    let connection: Connection | null = null;
    let connectionGeneration = -1;
    for (;;) {
      while (restarting || (live.dead && serverExit === null)) await (restarting ?? new Promise((r) => setTimeout(r, 50)));
      if (serverExit !== null || options.shouldStop?.()) break;
      const index = next++;
      if (index >= end) break;
      const current = live;
      if (connection === null || connectionGeneration !== current.generation) {
        connection?.close();
        connection = new Connection(current.server.port);
        connectionGeneration = current.generation;
      }
      const fuzzCase = generateCase(target, current.fixtures, seed, index);
      const request = fuzzCase.request;
      const bytes = serialize(request, `127.0.0.1:${current.server.port}`);
      inFlight.set(index, { fuzzCase, bytes, generation: current.generation });
      const outcome = await connection.send(bytes, { isHead: request.method === 'HEAD', deadlineMs, closeAfter: framingIsAmbiguous(request) });
      // A dropped connection may be the first sign of a crash: give the exit a moment to be noticed.
      if (outcome.kind !== 'response' && !current.dead) await new Promise((r) => setTimeout(r, 300));
      if (!inFlight.delete(index)) continue;
      const verdict = judge(fuzzCase, outcome);
      done++;
      statuses[verdict.status] = (statuses[verdict.status] ?? 0) + 1;
      const kind = (kinds[fuzzCase.kind] ??= { count: 0, meanMs: 0 });
      kind.count++;
      kind.meanMs += (outcome.ms - kind.meanMs) / kind.count;
      if (outcome.kind === 'response' && (slowest.length < 5 || outcome.ms > slowest[slowest.length - 1]!.ms)) {
        slowest.push({ index, ms: Math.round(outcome.ms), status: verdict.status, kind: fuzzCase.kind });
        slowest.sort((a, b) => b.ms - a.ms);
        slowest.length = Math.min(slowest.length, 5);
      }
      if (!verdict.ok) record(index, fuzzCase, bytes, verdict, knownIssue(request, verdict));
    }
    connection?.close();
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const finished = snapshot(null);
  clearInterval(ticker);

  if (options.shrink !== false && serverExit === null && !options.shouldStop?.()) {
    for (const [signature, fuzzCase] of [...firstCase.entries()].slice(0, 12)) {
      if (signature.startsWith('server crash')) continue;
      const timeout = signature.startsWith('hang');
      const result = await shrink(fuzzCase, signature, live.server.port, deadlineMs, { attempts: timeout ? 12 : 200, ms: 60_000 });
      const entry = kept.find((k) => k.index === fuzzCase.index);
      if (entry && result.request !== fuzzCase.request) {
        const bytes = serialize(result.request, `127.0.0.1:${live.server.port}`);
        entry.minimized = { request: printable(bytes), requestBase64: bytes.toString('base64'), attempts: result.attempts };
      }
    }
  }
  clearInterval(sampler);
  const endRss = await live.server.rssBytes();
  if (endRss !== null && (peakRss === null || endRss > peakRss)) peakRss = endRss;
  return { ...finished, peakRssBytes: peakRss, endRssBytes: endRss };
}
