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
 * glibc reads MALLOC_ARENA_MAX only when a process starts, so it belongs to whatever starts Trove:
 * `npm start` sets it, and a server started without it (nor another allocator preloaded) says so.
 */
export const RECOMMENDED_MALLOC_ARENA_MAX = '2';

const PRELOADED_ALLOCATOR = /jemalloc|tcmalloc|mimalloc/;

interface AllocatorFacts {
  platform: NodeJS.Platform;
  glibc: boolean;
  /** MALLOC_ARENA_MAX as the process was started with it, or null. */
  mallocArenaMax: string | null;
  /** LD_PRELOAD as the process was started with it, or null. */
  ldPreload: string | null;
}

/** A warning to log at start when RSS would climb under load, or null when the allocator is set up. */
export function allocatorWarning(facts: AllocatorFacts): string | null {
  if (facts.platform !== 'linux' || !facts.glibc) return null;
  if (facts.mallocArenaMax !== null) return null;
  if (PRELOADED_ALLOCATOR.test(facts.ldPreload ?? '')) return null;
  return (
    `MALLOC_ARENA_MAX is not set: glibc's per-thread arenas fragment under image work and memory will climb for as long as ` +
    `Trove runs. Start it with MALLOC_ARENA_MAX=${RECOMMENDED_MALLOC_ARENA_MAX} (npm start does) or with jemalloc preloaded.`
  );
}

/** glibc maps libc.so.6; musl and other C libraries have no such arenas. */
export function runsOnGlibc(): boolean {
  try {
    return /\/libc\.so\.6$/m.test(readFileSync('/proc/self/maps', 'utf8'));
  } catch {
    return false;
  }
}
