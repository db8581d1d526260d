import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';
import { freePort } from './ports.js';

/** Debian's Varnish 7 and varnish-modules (`apt-get install varnish varnish-modules`). */
const VARNISHD = process.env.TROVE_TEST_VARNISHD ?? '/usr/sbin/varnishd';
/** Set in CI: a missing Varnish then fails the run instead of skipping the shield tests. */
const REQUIRE_SHIELD = process.env.TROVE_TEST_REQUIRE_SHIELD === '1';
const START_SCRIPT = fileURLToPath(new URL('../../deploy/shield/start.sh', import.meta.url));

/** `describe` for suites that run the real shield: skipped with a message without varnishd, unless TROVE_TEST_REQUIRE_SHIELD=1. */
export function describeWhenShield(what: string): typeof describe | typeof describe.skip {
  if (existsSync(VARNISHD) || REQUIRE_SHIELD) return describe;
  console.warn(
    `[trove tests] skipping the ${what} tests: no varnishd at ${VARNISHD} (apt-get install varnish varnish-modules). Set TROVE_TEST_REQUIRE_SHIELD=1 to make this an error.`,
  );
  return describe.skip;
}

export interface TestShield {
  /** http://127.0.0.1:port */
  url: string;
  port: number;
  /** What varnishd and the start script printed so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

async function healthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/shield-health`, { signal: AbortSignal.timeout(1_000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

/**
 * Runs deploy/shield/start.sh (so `varnishd -F` with trove.vcl) on a free loopback port, with its
 * own working directory (`-n`) in a temporary folder, in front of `origin` (host:port). `env`
 * sets the script's other variables (SHIELD_MAX_TTL, SHIELD_PURGE_ALLOW, …); a SHIELD_LISTEN there
 * (`127.0.0.1:<port>`) chooses the port.
 */
export async function startShield(origin: string, env: Record<string, string> = {}): Promise<TestShield> {
  if (!existsSync(VARNISHD)) throw new Error(`TROVE_TEST_REQUIRE_SHIELD=1 but there is no varnishd at ${VARNISHD}: apt-get install varnish varnish-modules`);
  const dir = await mkdtemp(path.join(tmpdir(), 'trove-shield-'));
  // Varnish's compiler and cache process run as unprivileged users: they must reach the folder.
  await chmod(dir, 0o755);
  const port = env.SHIELD_LISTEN ? Number(env.SHIELD_LISTEN.split(':').at(-1)) : await freePort();
  const child: ChildProcess = spawn('bash', [START_SCRIPT, '-p', 'thread_pool_min=10', '-p', 'thread_pools=1'], {
    env: {
      ...process.env,
      TROVE_ORIGIN: origin,
      SHIELD_LISTEN: `127.0.0.1:${port}`,
      SHIELD_WORK_DIR: dir,
      SHIELD_CACHE_SIZE: '64M',
      SHIELD_VARNISHD: VARNISHD,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (data: Buffer) => (output += data.toString()));
  child.stderr?.on('data', (data: Buffer) => (output += data.toString()));
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', (error) => {
      exited = true;
      output += `${error.message}\n`;
      resolve();
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (!exited) {
      // The script execs varnishd, so this is the manager: on SIGTERM it stops its cache process too.
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const started = Date.now();
  while (!(await healthy(url))) {
    if (exited || Date.now() - started > 30_000) {
      await stop();
      throw new Error(`the shield did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, port, output: () => output, stop };
}
