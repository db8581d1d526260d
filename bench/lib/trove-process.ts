import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface TroveProcess {
  url: string;
  dataDir: string;
  uploadUrl: string;
  publicKey: string;
  secretKey: string;
  pid: number;
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

/** Runs the built server (`dist/`) as its own process, so its memory and CPU are measured alone. */
export async function startTroveProcess(options: { dataDir: string; port: number; env?: Record<string, string> }): Promise<TroveProcess> {
  const publicKey = 'benchpublickey';
  const secretKey = 'benchsecretkey0000';
  const child: ChildProcess = spawn(process.execPath, [path.resolve('dist/src/main.js'), 'serve'], {
    env: {
      ...process.env,
      DATA_DIR: options.dataDir,
      PORT: String(options.port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      TROVE_PUBLIC_KEY: publicKey,
      TROVE_SECRET_KEY: secretKey,
      ...options.env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('Trove did not start');
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
    peakRssMiB: () => statusField(pid, 'VmHWM'),
    rssMiB: () => statusField(pid, 'VmRSS'),
    stop: () =>
      new Promise<void>((resolve) => {
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
