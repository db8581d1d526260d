import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe } from 'vitest';
import { freePort } from './ports.js';

/** Debian's ClamAV (`apt-get install clamav-daemon clamav`); tests never download signatures. */
const CLAMD = process.env.TROVE_TEST_CLAMD ?? '/usr/sbin/clamd';
const SIGTOOL = process.env.TROVE_TEST_SIGTOOL ?? '/usr/bin/sigtool';
/** Set in CI: a missing ClamAV then fails the run instead of skipping the suites that need it. */
const REQUIRE_CLAMD = process.env.TROVE_TEST_REQUIRE_CLAMD === '1';

/**
 * The EICAR anti-virus test file, put together at run time: a checkout scanned by an anti-virus must
 * not find the string in the sources and quarantine them.
 */
export const EICAR = Buffer.from(['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'].join(''), 'latin1');

/** The name the one-line test database gives EICAR; clamd reports signatures of a local database with `.UNOFFICIAL`. */
export const EICAR_SIGNATURE = 'Win.Test.EICAR_HDB-1';

/** `describe` for suites that run a real clamd: skipped with a message without ClamAV, unless TROVE_TEST_REQUIRE_CLAMD=1. */
export function describeWhenClamd(what: string): typeof describe | typeof describe.skip {
  if ((existsSync(CLAMD) && existsSync(SIGTOOL)) || REQUIRE_CLAMD) return describe;
  console.warn(
    `[trove tests] skipping the ${what} tests: no ClamAV at ${CLAMD} / ${SIGTOOL} (apt-get install clamav-daemon clamav). Set TROVE_TEST_REQUIRE_CLAMD=1 to make this an error.`,
  );
  return describe.skip;
}

export interface TestClamd {
  /** `tcp://127.0.0.1:<port>` */
  tcpUrl: string;
  /** `unix:<dir>/clamd.sock` */
  unixUrl: string;
  port: number;
  stop(): Promise<void>;
}

function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    socket.setTimeout(1_000, () => socket.destroy());
    socket.on('connect', () => socket.write('zPING\0'));
    socket.on('data', (data: Buffer) => (reply += data.toString('latin1')));
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(reply.startsWith('PONG')));
  });
}

/**
 * Starts a clamd of its own: its own configuration in a temporary folder, TCP on a free loopback port
 * and a Unix socket, in the foreground, with a one-line signature database made from EICAR by
 * `sigtool --md5` (no freshclam, no download). `streamMaxLength` is clamd's `StreamMaxLength`.
 */
export async function startClamd(options: { streamMaxLength?: string } = {}): Promise<TestClamd> {
  const dir = await mkdtemp(path.join(tmpdir(), 'trove-clamd-'));
  const database = path.join(dir, 'db');
  await writeFile(path.join(dir, 'eicar.com'), EICAR);
  const { stdout } = await promisify(execFile)(SIGTOOL, ['--md5', path.join(dir, 'eicar.com')]);
  // `<md5>:<size>:<file name>`: the name becomes the signature's.
  const [md5, size] = stdout.trim().split(':');
  await mkdir(database);
  await writeFile(path.join(database, 'trove-test.hdb'), `${md5}:${size}:${EICAR_SIGNATURE}\n`);
  const port = await freePort();
  const socketPath = path.join(dir, 'clamd.sock');
  const config = [
    'Foreground yes',
    `DatabaseDirectory ${database}`,
    `TCPSocket ${port}`,
    'TCPAddr 127.0.0.1',
    `LocalSocket ${socketPath}`,
    `PidFile ${path.join(dir, 'clamd.pid')}`,
    `LogFile ${path.join(dir, 'clamd.log')}`,
    `StreamMaxLength ${options.streamMaxLength ?? '25M'}`,
    'MaxThreads 4',
    'SelfCheck 0',
  ].join('\n');
  const configFile = path.join(dir, 'clamd.conf');
  await writeFile(configFile, `${config}\n`);
  const child: ChildProcess = spawn(CLAMD, ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (data: Buffer) => (stderr += data.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  child.once('error', (error) => {
    exited = true;
    stderr += `${error.message}\n`;
  });
  const started = Date.now();
  while (!(await pong(port))) {
    if (exited || Date.now() - started > 30_000) {
      child.kill('SIGKILL');
      const log = await readFile(path.join(dir, 'clamd.log'), 'utf8').catch(() => '');
      await rm(dir, { recursive: true, force: true });
      throw new Error(`clamd did not start: ${stderr}\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    tcpUrl: `tcp://127.0.0.1:${port}`,
    unixUrl: `unix:${socketPath}`,
    port,
    async stop() {
      if (!exited) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 5_000))]);
        if (!exited) child.kill('SIGKILL');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
