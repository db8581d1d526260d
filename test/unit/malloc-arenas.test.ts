import { describe, expect, it } from 'vitest';
import { MALLOC_ARENA_MAX, arenaLimitedEnv, startsServer } from '../../src/runtime/malloc-arenas.js';

describe('arenaLimitedEnv', () => {
  const linux = { platform: 'linux' as const, glibc: true };

  it('adds the arena limit on glibc Linux when nothing is set', () => {
    expect(arenaLimitedEnv({ ...linux, env: { PORT: '3000' } })).toEqual({ PORT: '3000', MALLOC_ARENA_MAX });
  });

  it("keeps the operator's own value, even an empty one", () => {
    expect(arenaLimitedEnv({ ...linux, env: { MALLOC_ARENA_MAX: '8' } })).toBeNull();
    expect(arenaLimitedEnv({ ...linux, env: { MALLOC_ARENA_MAX: '' } })).toBeNull();
  });

  it('leaves a preloaded allocator alone', () => {
    expect(arenaLimitedEnv({ ...linux, env: { LD_PRELOAD: '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2' } })).toBeNull();
    expect(arenaLimitedEnv({ ...linux, env: { LD_PRELOAD: 'libtcmalloc_minimal.so.4' } })).toBeNull();
  });

  it('relaunches despite an unrelated preload', () => {
    expect(arenaLimitedEnv({ ...linux, env: { LD_PRELOAD: '/lib/libfaketime.so' } })).toMatchObject({ MALLOC_ARENA_MAX });
  });

  it('does nothing on musl or other platforms', () => {
    expect(arenaLimitedEnv({ platform: 'linux', glibc: false, env: {} })).toBeNull();
    expect(arenaLimitedEnv({ platform: 'darwin', glibc: false, env: {} })).toBeNull();
  });
});

describe('startsServer', () => {
  it('is true for serve, the default command and options before any command', () => {
    expect(startsServer([])).toBe(true);
    expect(startsServer(['serve', '--roles', 'delivery'])).toBe(true);
    expect(startsServer(['--roles', 'delivery'])).toBe(true);
  });

  it('is false for the short-lived commands', () => {
    expect(startsServer(['projects', 'list'])).toBe(false);
    expect(startsServer(['migrate'])).toBe(false);
  });
});
