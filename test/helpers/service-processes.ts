/**
 * Real processes for reliability suites: built `trove serve` nodes, a private redis-server and a
 * private PostgreSQL cluster, each on a spare loopback port, each stoppable and restartable without
 * touching the machine's own services.
 *
 * Everything started here is tracked: `stopAllProcesses()` (called from afterAll) stops what a test
 * left running, and a synchronous exit hook kills leftovers if the test worker dies first.
 */
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The CLI from the sources, run through tsx: tests see the code as it is, no build step needed. */
const TROVE_MAIN = path.resolve('src/main.ts');

// ---------------------------------------------------------------------------------------------
// Tracking and clean-up

type Release = () => Promise<void>;
const live = new Map<symbol, { release: Release; killSync: () => void }>();

function track(release: Release, killSync: () => void): Release {
  const id = Symbol('resource');
  let released: Promise<void> | null = null;
  const once = () => {
    released ??= (async () => {
      try {
        await release();
      } finally {
        live.delete(id);
      }
    })();
    return released;
  };
  live.set(id, { release: once, killSync });
  return once;
}

let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const { killSync } of live.values()) {
      try {
        killSync();
      } catch {
        // best effort: the process is leaving
      }
    }
  });
}

/** Stops every process and removes every folder this module started or made, newest first. */
export async function stopAllProcesses(): Promise<void> {
  const pending = [...live.values()].reverse();
  const errors: unknown[] = [];
  for (const { release } of pending) {
    try {
      await release();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, 'some test processes could not be stopped');
}

/** A temporary folder removed by stopAllProcesses() (or earlier, by calling the returned remove()). */
export async function tempDir(prefix: string): Promise<{ path: string; remove: Release }> {
  installExitHook();
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  const remove = track(
    () => rm(dir, { recursive: true, force: true }),
    () => spawnSync('rm', ['-rf', dir]),
  );
  return { path: dir, remove };
}

// ---------------------------------------------------------------------------------------------
// Small utilities

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a value other than undefined/false, or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
    }
    await sleep(intervalMs);
  }
}

/** Files under `dir`, recursively; 0 when it does not exist. */
export async function countFilesUnder(dir: string): Promise<number> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  let count = 0;
  for (const entry of entries) count += entry.isDirectory() ? await countFilesUnder(path.join(dir, entry.name)) : 1;
  return count;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Trove nodes

export interface TroveNode {
  url: string;
  port: number;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr (pino JSON lines), across restarts. */
  output(): string;
  /** Parsed pino lines (non-JSON lines skipped). */
  logLines(): Array<Record<string, unknown>>;
  /** SIGKILL, no clean-up by the process itself. */
  killHard(): Promise<void>;
  /** SIGTERM and wait (SIGKILL after 15 s). */
  stop(): Promise<void>;
  /** Starts the process again with the same environment and port. */
  restart(): Promise<void>;
}

interface SpawnTroveOptions {
  env: Record<string, string>;
  port?: number;
  /** Label shown in errors. */
  name?: string;
  startTimeoutMs?: number;
}

/** Starts `trove serve` (from the sources) and waits for /health. */
export async function spawnTrove(options: SpawnTroveOptions): Promise<TroveNode> {
  installExitHook();
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const name = options.name ?? `trove:${port}`;
  let output = '';
  let child: ChildProcess;

  const start = async () => {
    child = spawn(process.execPath, ['--import', 'tsx', TROVE_MAIN, 'serve'], {
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: String(port),
        TROVE_WORKERS: '1',
        LOG_LEVEL: 'info',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Bounded: a long run must not hold megabytes of request logs.
    const append = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.length > 4_000_000) output = output.slice(-2_000_000);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before it was healthy:\n${output.slice(-4_000)}`);
      }
      try {
        if ((await fetch(`${url}/health`, { headers: { connection: 'close' } })).ok) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    child.kill('SIGKILL');
    throw new Error(`${name} did not become healthy:\n${output.slice(-4_000)}`);
  };

  const stopChild = async (signal: NodeJS.Signals) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    if (!(await waitForExit(child, 15_000))) {
      child.kill('SIGKILL');
      await waitForExit(child, 5_000);
    }
  };

  const release = track(
    () => stopChild('SIGTERM'),
    () => {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  );
  try {
    await start();
  } catch (error) {
    await release();
    throw error;
  }

  return {
    url,
    port,
    get child() {
      return child;
    },
    output: () => output,
    logLines: () =>
      output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as Record<string, unknown>];
          } catch {
            return [];
          }
        }),
    killHard: () => stopChild('SIGKILL'),
    stop: () => stopChild('SIGTERM'),
    restart: async () => {
      await stopChild('SIGTERM');
      await start();
    },
  };
}

/** Parses one sample of a Prometheus text exposition; 0 when absent. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const labelText = match[2] ?? '';
    const ok = Object.entries(labels).every(([key, value]) => labelText.includes(`${key}="${value}"`));
    if (!ok) continue;
    total += Number(match[3]);
    found = true;
  }
  return found ? total : 0;
}

export async function scrapeMetrics(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`, { headers: { connection: 'close' } });
  if (!response.ok) throw new Error(`GET ${url}/metrics: ${response.status}`);
  return response.text();
}

// ---------------------------------------------------------------------------------------------
// A private redis-server

interface OwnRedis {
  port: number;
  url(db?: number): string;
  /** SIGTERM, wait for exit. */
  stop(): Promise<void>;
  /** Starts again on the same port. */
  start(): Promise<void>;
  isRunning(): boolean;
  /** Stops it for good and removes its folder. */
  release(): Promise<void>;
}

export function redisServerBinary(): string | null {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const bin = found.stdout.trim();
  return found.status === 0 && bin ? bin : null;
}

export async function startOwnRedis(): Promise<OwnRedis> {
  installExitHook();
  const bin = redisServerBinary();
  if (!bin) throw new Error('redis-server is not installed');
  const port = await freePort();
  const dir = await tempDir('trove-redis-');
  let child: ChildProcess | null = null;
  let log = '';

  const start = async () => {
    const proc = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir.path], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    proc.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
    proc.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
    await waitFor(
      `redis-server on port ${port}`,
      () => {
        if (proc.exitCode !== null) throw new Error(`redis-server exited: ${log.slice(-2_000)}`);
        return /Ready to accept connections/i.test(log);
      },
      10_000,
      50,
    );
  };
  const stop = async () => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    if (!(await waitForExit(proc, 10_000))) {
      proc.kill('SIGKILL');
      await waitForExit(proc, 5_000);
    }
    log = '';
  };
  const release = track(
    async () => {
      await stop();
      await dir.remove();
    },
    () => {
      const proc = child;
      if (proc && proc.exitCode === null) proc.kill('SIGKILL');
    },
  );
  try {
    await start();
  } catch (error) {
    await release();
    throw error;
  }
  return {
    port,
    url: (db = 0) => `redis://127.0.0.1:${port}/${db}`,
    stop,
    start,
    release,
    isRunning: () => child !== null && child.exitCode === null && child.signalCode === null,
  };
}

// ---------------------------------------------------------------------------------------------
// A private PostgreSQL cluster

interface OwnPostgres {
  port: number;
  /** postgres://postgres@127.0.0.1:port/postgres */
  url: string;
  /** `pg_ctl stop -m fast`: clients are disconnected at once. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it for good and removes its folder. */
  release(): Promise<void>;
}

/** The folder holding initdb and pg_ctl, newest major version first; null when none is installed. */
function postgresBinDir(): string | null {
  const candidates: string[] = [];
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(path.join(root, v, 'bin'));
  }
  const onPath = spawnSync('sh', ['-c', 'command -v pg_ctl'], { encoding: 'utf8' });
  if (onPath.status === 0 && onPath.stdout.trim()) candidates.push(path.dirname(onPath.stdout.trim()));
  return candidates.find((dir) => existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'pg_ctl'))) ?? null;
}

/** Why a private cluster cannot be started here, or null. PostgreSQL refuses to run as root. */
export function ownPostgresUnavailableReason(): string | null {
  if (!postgresBinDir()) return 'no initdb/pg_ctl found (looked under /usr/lib/postgresql/*/bin and PATH)';
  if (process.getuid?.() === 0) {
    if (!existsSync('/usr/sbin/runuser') && spawnSync('sh', ['-c', 'command -v runuser']).status !== 0) {
      return 'running as root and runuser is missing (PostgreSQL refuses to run as root)';
    }
    if (spawnSync('id', ['-u', 'postgres']).status !== 0) return 'running as root and there is no "postgres" user to run PostgreSQL as';
  }
  return null;
}

export async function startOwnPostgres(): Promise<OwnPostgres> {
  installExitHook();
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL server binaries not found');
  const asRoot = process.getuid?.() === 0;
  const port = await freePort();
  const dir = await tempDir('trove-pg-');
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    await chown(dir.path, uid, gid);
  }
  const dataDir = path.join(dir.path, 'data');
  const logFile = path.join(dir.path, 'postgres.log');
  const command = (tool: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args]] : [path.join(bin, tool), args];
  const run = async (tool: string, args: string[], timeout = 60_000) => {
    const [file, argv] = command(tool, args);
    try {
      return await execFileAsync(file, argv, { timeout, encoding: 'utf8' });
    } catch (error) {
      const e = error as { stderr?: string; stdout?: string; message: string };
      throw new Error(`${tool} ${args.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}${e.stdout ?? ''}`);
    }
  };

  const stopImmediately = () => run('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
  try {
    await run('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--no-locale', '--no-instructions']);
  } catch (error) {
    await dir.remove();
    throw error;
  }
  const options = `-p ${port} -k ${dir.path} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  const start = async () => {
    await run('pg_ctl', ['-D', dataDir, '-o', options, '-l', logFile, '-w', '-t', '30', 'start']);
  };
  const stop = async () => {
    if (!existsSync(path.join(dataDir, 'postmaster.pid'))) return;
    await run('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', '30', 'stop']);
  };
  const release = track(
    async () => {
      await stop().catch(stopImmediately);
      await dir.remove();
    },
    () => {
      const [file, argv] = command('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      spawnSync(file, argv, { timeout: 10_000 });
    },
  );
  try {
    await start();
  } catch (error) {
    await release();
    throw error;
  }
  return { port, url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop, start, release };
}
