import { describe, expect, it } from 'vitest';
import { allocatorWarning, RECOMMENDED_MALLOC_ARENA_MAX, runsOnGlibc } from '../../src/runtime/malloc-arenas.js';

describe('allocatorWarning', () => {
  const glibcLinux = { platform: 'linux' as const, glibc: true, mallocArenaMax: null, ldPreload: null };

  it('warns on glibc Linux when nothing limits the arenas, naming the setting', () => {
    expect(allocatorWarning(glibcLinux)).toContain(`MALLOC_ARENA_MAX=${RECOMMENDED_MALLOC_ARENA_MAX}`);
  });

  it("keeps quiet when the operator chose an arena count, even an unusual one", () => {
    expect(allocatorWarning({ ...glibcLinux, mallocArenaMax: '8' })).toBeNull();
    expect(allocatorWarning({ ...glibcLinux, mallocArenaMax: '' })).toBeNull();
  });

  it('keeps quiet when another allocator is preloaded, but not for an unrelated preload', () => {
    expect(allocatorWarning({ ...glibcLinux, ldPreload: '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2' })).toBeNull();
    expect(allocatorWarning({ ...glibcLinux, ldPreload: 'libtcmalloc_minimal.so.4' })).toBeNull();
    expect(allocatorWarning({ ...glibcLinux, ldPreload: '/lib/libfaketime.so' })).not.toBeNull();
  });

  it('keeps quiet on musl and other platforms', () => {
    expect(allocatorWarning({ ...glibcLinux, glibc: false })).toBeNull();
    expect(allocatorWarning({ ...glibcLinux, platform: 'darwin', glibc: false })).toBeNull();
  });

  it('recognises the C library this test runs on', () => {
    expect(typeof runsOnGlibc()).toBe('boolean');
  });
});

describe('npm start', () => {
  it('starts the server with the arena limit unless one is given', async () => {
    const { default: manifest } = await import('../../package.json', { with: { type: 'json' } });
    expect(manifest.scripts.start).toContain(`MALLOC_ARENA_MAX=\${MALLOC_ARENA_MAX:-${RECOMMENDED_MALLOC_ARENA_MAX}}`);
  });
});
