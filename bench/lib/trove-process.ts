import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The per-project rate limits the server enforces by default would turn a benchmark's deliberate
 * bursts into 429s, so each benchmark states the limits it runs with; these switch every class off.
 */
export const RATE_LIMITS_OFF: Readonly<Record<string, string>> = {
  TROVE_RATE_LIMIT_UPLOAD: 'off',
  TROVE_RATE_LIMIT_REST_READ: 'off',
  TROVE_RATE_LIMIT_REST_WRITE: 'off',
  TROVE_RATE_LIMIT_DELIVERY_MISS: 'off',
};

const RATE_LIMIT_DEFAULTS: Readonly<Record<string, string>> = {
  TROVE_RATE_LIMIT_UPLOAD: '50:200',
  TROVE_RATE_LIMIT_REST_READ: '50:150',
  TROVE_RATE_LIMIT_REST_WRITE: '20:60',
  TROVE_RATE_LIMIT_DELIVERY_MISS: '50:500',
};

export interface TroveProcess {
  url: string;
  dataDir: string;
  uploadUrl: string;
  publicKey: string;
  secretKey: string;
  pid: number;
  /** The rate limits (and allocator setting) the server runs with, as `NAME=value` pairs (a default is marked so). */
  limits: string;
  /** Peak resident set size of the server process so far, in MiB (Linux VmHWM). */
  peakRssMiB(): number;
  /** Current resident set size in MiB. */
  rssMiB(): number;
  stop(): Promise<void>;
}

function statusField(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) / 1024 : NaN;
}

/**
 * Runs the built server (`dist/`, or `mainPath` for another build, e.g. an earlier version's) as its own
 * process, so its memory and CPU are measured alone.
 */
export async function startTroveProcess(options: {
  dataDir: string;
  port: number;
  env?: Record<string, string>;
  mainPath?: string;
  /** Runs `src/main.ts` through tsx instead of the build (no `npm run build` needed; slower to start only). */
  fromSources?: boolean;
}): Promise<TroveProcess> {
  const publicKey = 'benchpublickey';
  const secretKey = 'benchsecretkey0000';
  const env: Record<string, string | undefined> = {
    // As `npm start` runs it (see src/runtime/malloc-arenas.ts); a variant may set another value.
    MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
    ...process.env,
    DATA_DIR: options.dataDir,
    PORT: String(options.port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    TROVE_PUBLIC_KEY: publicKey,
    TROVE_SECRET_KEY: secretKey,
    ...options.env,
  };
  const limits = Object.entries(RATE_LIMIT_DEFAULTS)
    .map(([name, fallback]) => `${name}=${env[name] ?? `${fallback} (default)`}`)
    .concat(`MALLOC_ARENA_MAX=${env.MALLOC_ARENA_MAX}`)
    .join(' ');
  const url = `http://127.0.0.1:${options.port}`;
  // A server left over on the port (from an interrupted run) would answer /health for the new one,
  // which then fails to listen, and every figure would be the old server's.
  const taken = await fetch(`${url}/health`).then(
    () => true,
    () => false,
  );
  if (taken) throw new Error(`port ${options.port} is already taken: is a server from an earlier run still listening?`);
  const entry = options.fromSources ? ['--import', 'tsx', path.resolve('src/main.ts')] : [options.mainPath ?? path.resolve('dist/src/main.js')];
  const child: ChildProcess = spawn(process.execPath, [...entry, 'serve'], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  // However the benchmark ends, its server must not outlive it and hold the port.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  // Generous: on a shared 2-core machine under load, loading the modules alone has taken over 30 s.
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) throw new Error(`Trove exited with code ${child.exitCode} before it answered /health`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('Trove did not answer /health within 120 s');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const pid = child.pid!;
  return {
    url,
    dataDir: options.dataDir,
    uploadUrl: `${url}/upload`,
    publicKey,
    secretKey,
    pid,
    limits,
    peakRssMiB: () => statusField(pid, 'VmHWM'),
    rssMiB: () => statusField(pid, 'VmRSS'),
    stop: () =>
      new Promise<void>((resolve) => {
        process.off('exit', killOnExit);
        if (child.exitCode !== null || child.signalCode !== null) {
          resolve();
          return;
        }
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function printTable(title: string, rows: Array<Record<string, string | number>>): void {
  console.log(`\n${title}`);
  console.table(rows);
}

/** wrk (Debian package `wrk`) is optional: `wrk --version` exits with status 1 when it is there. */
export function hasWrk(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    return (error as { status?: number }).status === 1;
  }
}
