import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * glibc's malloc hands each thread that allocates concurrently an arena of its own, up to eight per
 * core, and gives little of a fragmented arena back to the system. libvips decodes and encodes on
 * its worker threads and sharp runs on the libuv pool, so under a steady mix of transformations the
 * server's RSS climbs for as long as it runs while the JS heap and the bounded caches stay level.
 * With two arenas it levels off once the caches are full, at the same throughput (`npm run
 * bench:soak`, default against MALLOC_ARENA_MAX=2). jemalloc stays lower still but cost a quarter
 * of the throughput in the same runs, and it is a system package, so it stays the operator's choice.
 *
 * glibc reads MALLOC_ARENA_MAX once, when the process starts, so a server started without it has to
 * be started again with it. An operator's own MALLOC_ARENA_MAX, or another allocator preloaded
 * (jemalloc, tcmalloc, mimalloc), is left alone; musl and other platforms have no such arenas.
 */
export const MALLOC_ARENA_MAX = '2';

const PRELOADED_ALLOCATOR = /jemalloc|tcmalloc|mimalloc/;
/** Set in the relaunched server's environment: the pid of the process waiting for it. */
const WRAPPER_PID = 'TROVE_ALLOCATOR_WRAPPER_PID';
const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface AllocatorFacts {
  platform: NodeJS.Platform;
  glibc: boolean;
  env: NodeJS.ProcessEnv;
}

/** `trove serve` is the default command, so no command word (or options first) means serve too. */
export function startsServer(argv: readonly string[]): boolean {
  const first = argv[0];
  return first === undefined || first === 'serve' || first.startsWith('-');
}

/** The environment to start the server again with, or null when this process can run as it is. */
export function arenaLimitedEnv(facts: AllocatorFacts): NodeJS.ProcessEnv | null {
  if (facts.platform !== 'linux' || !facts.glibc) return null;
  if (facts.env.MALLOC_ARENA_MAX !== undefined) return null;
  if (PRELOADED_ALLOCATOR.test(facts.env.LD_PRELOAD ?? '')) return null;
  return { ...facts.env, MALLOC_ARENA_MAX };
}

function runsOnGlibc(): boolean {
  try {
    return /\/libc\.so\.6$/m.test(readFileSync('/proc/self/maps', 'utf8'));
  } catch {
    return false;
  }
}

type Execve = (file: string, args: string[], env: NodeJS.ProcessEnv) => never;

/**
 * Starts the server again with MALLOC_ARENA_MAX set when it is missing, and returns true in the
 * process that did so (which must then do nothing else: it only waits for the new one and exits with
 * its status). Returns false when this process should go on; other commands always do.
 *
 * Node 22.15+ replaces the process in place (`process.execve`). Older Node keeps this process as a
 * thin parent; call this before the server's modules are imported, so the parent stays at the size
 * of a bare Node process.
 */
export function relaunchWithArenaLimit(argv: readonly string[] = process.argv.slice(2)): boolean {
  const wrapperPid = Number(process.env[WRAPPER_PID]);
  if (wrapperPid) {
    delete process.env[WRAPPER_PID];
    watchParent(wrapperPid);
    return false;
  }
  if (!startsServer(argv)) return false;
  const env = arenaLimitedEnv({ platform: process.platform, glibc: runsOnGlibc(), env: process.env });
  if (!env) return false;
  const args = [...process.execArgv, ...process.argv.slice(1)];
  const execve = (process as { execve?: Execve }).execve;
  if (execve) execve(process.execPath, [process.execPath, ...args], env);

  // A process group of its own: a terminal's Ctrl-C then reaches the server once, through this
  // parent, instead of twice (a second SIGINT would cut its graceful shutdown short).
  const child = spawn(process.execPath, args, {
    env: { ...env, [WRAPPER_PID]: String(process.pid) },
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  child.once('error', (error) => {
    process.stderr.write(`could not start the server with MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX}: ${error.message}\n`);
    process.exit(1);
  });
  child.once('exit', (code, signal) => {
    if (signal) {
      for (const s of FORWARDED_SIGNALS) process.off(s, forward);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 1);
  });
  return true;
}

/** A parent killed outright (SIGKILL) cannot forward anything: the server then stops by itself. */
function watchParent(parentPid: number): void {
  setInterval(() => {
    if (process.ppid !== parentPid) process.kill(process.pid, 'SIGTERM');
  }, 1_000).unref();
}
