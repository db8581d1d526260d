import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3Server, type TestS3Server } from '../helpers/s3-server.js';

const MAIN = path.resolve('src/main.ts');
const TSX = ['--import', 'tsx'];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function runCli(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, [...TSX, MAIN, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });
}

/** Like runCli, without blocking this process: servers the command talks to may run in it. */
function runCliAsync(args: string[], env: Record<string, string>, stdin = ''): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...TSX, MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

async function waitForHealth(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`trove exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // not yet listening
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error('trove did not become healthy');
}

describe('trove command line', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'trove-cli-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses bad configuration with one line per problem and exit code 1', () => {
    const result = runCli(['migrate'], { DATA_DIR: dataDir, PORT: 'eighty', TROVE_MAX_FILE_SIZE: 'big' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^ {2}- PORT: /m);
    expect(result.stderr).toMatch(/^ {2}- TROVE_MAX_FILE_SIZE: /m);
  });

  it('creates, lists and rotates keys of projects', { timeout: 120_000 }, () => {
    const env = { DATA_DIR: dataDir };
    expect(runCli(['migrate'], env).status).toBe(0);
    const created = runCli(['projects', 'create', '--name', 'Site', '--public-key', 'sitepublickey1', '--signed-uploads', 'true'], env);
    expect(created.status).toBe(0);
    const secret = /secret key:\s+([0-9a-f]{40})/.exec(created.stdout)?.[1];
    expect(secret).toBeDefined();
    const hidden = runCli(['projects', 'list'], env);
    expect(hidden.stdout).toContain('sitepublickey1');
    expect(hidden.stdout).toContain('signed uploads: required');
    expect(hidden.stdout).not.toContain(secret);
    expect(runCli(['projects', 'list', '--show-secrets'], env).stdout).toContain(secret);
    const added = runCli(['keys', 'create', '--public-key', 'sitepublickey1'], env);
    expect(added.stdout).toMatch(/secret key: [0-9a-f]{40}/);
    expect(runCli(['projects', 'create', '--name', 'Dup', '--public-key', 'sitepublickey1'], env).status).toBe(1);
  });

  it('queues the image analysis backfill of one project, and refuses an unknown key', { timeout: 60_000 }, () => {
    const env = { DATA_DIR: dataDir };
    expect(runCli(['migrate'], env).status).toBe(0);
    expect(runCli(['projects', 'create', '--name', 'Gallery', '--public-key', 'gallerypublickey1'], env).status).toBe(0);
    const backfill = runCli(['analysis', 'backfill', '--public-key', 'gallerypublickey1'], env);
    expect(backfill.status, backfill.stderr).toBe(0);
    expect(backfill.stdout).toMatch(/^queued the analysis of 0 images/);
    const unknown = runCli(['analysis', 'backfill', '--public-key', 'nosuchpublickey'], env);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('No project has the public key nosuchpublickey.');
  });

  it('refuses a mistyped option, naming it and the valid ones, and creates nothing', { timeout: 60_000 }, () => {
    const env = { DATA_DIR: dataDir };
    const typo = runCli(['projects', 'create', '--name', 'Typo', '--public-key', 'typopublickey1', '--max-filesize', '1MB'], env);
    expect(typo.status).not.toBe(0);
    expect(typo.stdout).toBe('');
    expect(typo.stderr).toContain('Unknown option --max-filesize for "trove projects create". Did you mean --max-file-size?');
    expect(typo.stderr).toMatch(/^Valid options: --name, --public-key, --region, --shard, --auto-store, --signed-uploads, --max-file-size, --allowed-types, --scan-on-upload, --purge-infected$/m);
    expect(runCli(['projects', 'list'], env).stdout).not.toContain('typopublickey1');
  });

  it('refuses an option missing its value, and creates nothing', { timeout: 60_000 }, () => {
    const env = { DATA_DIR: dataDir };
    const atEnd = runCli(['projects', 'create', '--name'], env);
    expect(atEnd.status).not.toBe(0);
    expect(atEnd.stderr).toContain('Option --name for "trove projects create" needs a value');
    const beforeOption = runCli(['projects', 'create', '--name', '--public-key', 'novaluekey1'], env);
    expect(beforeOption.status).not.toBe(0);
    expect(beforeOption.stderr).toContain('Option --name for "trove projects create" needs a value');
    expect(runCli(['projects', 'list'], env).stdout).not.toContain('novaluekey1');
  });

  it('refuses an unknown subcommand, listing the valid ones', () => {
    const result = runCli(['projects', 'delete', '--public-key', 'sitepublickey1'], { DATA_DIR: dataDir });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('Unknown subcommand "delete" for "trove projects".');
    expect(result.stderr).toContain('Valid subcommands: list, create, update');
  });

  it('prints help generated from the command declarations', () => {
    const help = runCli(['projects', 'create', '--help'], { DATA_DIR: dataDir });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: trove projects create --name NAME /);
    expect(help.stdout).toMatch(/--max-file-size SIZE +largest file accepted/);
    const overview = runCli(['help'], { DATA_DIR: dataDir });
    expect(overview.status).toBe(0);
    for (const command of ['serve', 'migrate', 'projects list', 'projects create', 'projects update', 'keys create', 'keys revoke', 'storages list', 'storages add', 'storages remove', 'config docs']) {
      expect(overview.stdout).toContain(`  ${command} `);
    }
  });

  it('serves with two HTTP processes, prints the default project keys once, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const ownDir = await mkdtemp(path.join(tmpdir(), 'trove-cli-serve-'));
    const child = spawn(process.execPath, [...TSX, MAIN, 'serve'], {
      env: { ...process.env, DATA_DIR: ownDir, PORT: String(port), HOST: '127.0.0.1', TROVE_WORKERS: '2', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    try {
      await waitForHealth(url, child);
      const publicKey = /public key:\s+(\S+)/.exec(stdout)?.[1];
      expect(publicKey).toBeDefined();
      const uploads = await Promise.all(
        Array.from({ length: 6 }, async (_, i) => {
          const form = new FormData();
          form.set('UPLOADCARE_PUB_KEY', publicKey!);
          form.set('file', new Blob([`file number ${i}`]), `f${i}.txt`);
          const response = await fetch(`${url}/upload/base/`, { method: 'POST', body: form });
          return ((await response.json()) as { file: string }).file;
        }),
      );
      for (const [i, uuid] of uploads.entries()) {
        expect(await (await fetch(`${url}/${uuid}/`)).text()).toBe(`file number ${i}`);
      }

      // Single-flight across the two HTTP processes: many identical requests, one transformation. Both
      // processes must be listening first, or every request would go to the one that is (on a busy
      // machine the second can take seconds longer to load).
      const missesOfEachProcess = async (): Promise<Map<string, number>> => {
        const misses = new Map<string, number>();
        const deadline = Date.now() + 30_000;
        while (misses.size < 2 && Date.now() < deadline) {
          const text = await (await fetch(`${url}/metrics`, { headers: { connection: 'close' } })).text();
          const pid = /trove_process_info\{pid="(\d+)"\} 1/.exec(text)?.[1];
          if (pid) misses.set(pid, Number(/trove_derivative_cache_total\{result="miss"\} (\d+)/.exec(text)?.[1] ?? 0));
        }
        return misses;
      };
      expect((await missesOfEachProcess()).size).toBe(2);
      const png = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#3366aa' } }).png().toBuffer();
      const form = new FormData();
      form.set('UPLOADCARE_PUB_KEY', publicKey!);
      form.set('file', new Blob([new Uint8Array(png)]), 'blue.png');
      const image = ((await (await fetch(`${url}/upload/base/`, { method: 'POST', body: form })).json()) as { file: string }).file;
      const derivative = `${url}/${image}/-/resize/123x/-/format/webp/`;
      const answers = await Promise.all(
        Array.from({ length: 40 }, () => fetch(derivative, { headers: { connection: 'close' } }).then(async (r) => [r.status, (await r.arrayBuffer()).byteLength])),
      );
      expect(answers.every(([status]) => status === 200)).toBe(true);
      const missesByProcess = await missesOfEachProcess();
      expect(missesByProcess.size).toBe(2);
      expect([...missesByProcess.values()].reduce((a, b) => a + b, 0)).toBe(1);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(ownDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('trove storages', () => {
  let dataDir: string;
  let target: TestS3Server;
  let secretFile: string;
  let env: Record<string, string>;
  const publicKey = 'storagespublickey1';

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'trove-cli-storages-'));
    target = await startS3Server();
    secretFile = path.join(dataDir, 'secret');
    await writeFile(secretFile, `${target.secretAccessKey}\n`);
    env = { DATA_DIR: dataDir, TROVE_STORAGE_CREDENTIALS_KEY: randomBytes(32).toString('hex'), TROVE_FETCH_ALLOW_PRIVATE: 'true' };
    expect(runCli(['projects', 'create', '--name', 'Copies', '--public-key', publicKey], env).status).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await target?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const add = (name: string, extra: string[] = []) => [
    'storages', 'add', '--public-key', publicKey, '--name', name, '--bucket', target.bucket, '--endpoint', target.endpoint,
    '--force-path-style', 'true', '--access-key-id', target.accessKeyId, ...extra,
  ];

  it('registers a storage after checking it, lists it without its secret, and removes it', { timeout: 120_000 }, async () => {
    const added = await runCliAsync(add('backups', ['--secret-access-key-file', secretFile, '--prefix', 'cli/copies', '--pattern', '${uuid}${ext}']), env);
    expect(added.stderr).toBe('');
    expect(added.status).toBe(0);
    expect(added.stdout).toContain('Registered storage "backups" (checked: Trove can write to it).');
    const fromStdin = await runCliAsync(add('piped', ['--secret-access-key-file', '-']), env, `${target.secretAccessKey}\n`);
    expect(fromStdin.status, fromStdin.stderr).toBe(0);

    const listed = runCli(['storages', 'list', '--public-key', publicKey], env);
    expect(listed.status).toBe(0);
    expect(listed.stdout).toMatch(/^backups\n {2}bucket: {5}trove-test\n {2}prefix: {5}cli\/copies\n/m);
    expect(listed.stdout).toContain('  pattern:    ${uuid}${ext}');
    expect(listed.stdout).toContain(`  endpoint:   ${target.endpoint} (path style)`);
    expect(listed.stdout).toMatch(/^piped$/m);
    expect(listed.stdout).not.toContain(target.secretAccessKey);

    const taken = await runCliAsync(add('backups', ['--secret-access-key-file', secretFile]), env);
    expect(taken.status).toBe(1);
    expect(taken.stderr).toContain('already has a storage named "backups"');

    expect(runCli(['storages', 'remove', '--public-key', publicKey, '--name', 'piped'], env).stdout).toBe('removed storage "piped"\n');
    const again = runCli(['storages', 'remove', '--public-key', publicKey, '--name', 'piped'], env);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('This project has no storage named "piped".');
    expect(runCli(['storages', 'list', '--public-key', publicKey], env).stdout).not.toMatch(/^piped$/m);
  });

  it('refuses a storage whose check fails, or a server without a key, and registers nothing', { timeout: 120_000 }, async () => {
    const wrong = await runCliAsync(add('wrong', ['--secret-access-key', target.secretAccessKey]).map((word) => (word === target.accessKeyId ? 'NOTS3RVER' : word)), env);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/Could not write to bucket "trove-test" at http:\/\/127\.0\.0\.1:\d+: the storage rejected the credentials/);
    const keyless = await runCliAsync(add('keyless', ['--secret-access-key-file', secretFile]), { ...env, TROVE_STORAGE_CREDENTIALS_KEY: '' });
    expect(keyless.status).toBe(1);
    expect(keyless.stderr).toContain('This server has no TROVE_STORAGE_CREDENTIALS_KEY configured');
    const unknownProject = runCli(['storages', 'list', '--public-key', 'nosuchproject'], env);
    expect(unknownProject.status).toBe(1);
    expect(unknownProject.stderr).toContain('No project has public key nosuchproject.');
    const listed = runCli(['storages', 'list', '--public-key', publicKey], env).stdout;
    expect(listed).not.toMatch(/^(wrong|keyless)$/m);
  });

  it('asks for the secret exactly once, and checks options before anything runs', () => {
    const both = runCli(add('twice', ['--secret-access-key-file', secretFile, '--secret-access-key', 'x']), env);
    expect(both.status).toBe(2);
    expect(both.stderr).toContain('Give the secret access key with exactly one of --secret-access-key-file FILE and --secret-access-key SECRET.');
    const none = runCli(add('none'), env);
    expect(none.status).toBe(2);
    const flag = runCli(add('flag', ['--secret-access-key-file', secretFile]).map((word, i, all) => (all[i - 1] === '--force-path-style' ? 'maybe' : word)), env);
    expect(flag.status).toBe(2);
    expect(flag.stderr).toContain('Invalid value for --force-path-style of "trove storages add": expected true or false');
    const help = runCli(['storages', 'add', '--help'], env);
    expect(help.stdout).toMatch(/^Usage: trove storages add --public-key KEY --name NAME --bucket BUCKET --access-key-id ID/);
    expect(help.stdout).toMatch(/--secret-access-key-file FILE +file holding the secret access key, or - for standard input/);
  });
});

describe('trove shards and moves', () => {
  let dataDir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'trove-shards-cli-'));
    env = { DATA_DIR: dataDir, TROVE_SHARD_CACHE_TTL: '100ms' };
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('adds a shard, places projects on the least loaded one, lists them, and refuses a bad shard', { timeout: 120_000 }, () => {
    const shardUrl = `sqlite://${path.join(dataDir, 'shard-b.db')}`;
    const added = runCli(['shards', 'add', 'b', shardUrl], env);
    expect(added.status, added.stderr).toBe(0);
    expect(added.stdout).toContain('added shard "b"');
    // Both shards are empty: the tie goes by name, so the first project lands on b, the next on main.
    expect(runCli(['projects', 'create', '--name', 'First', '--public-key', 'firstpublickey1'], env).stdout).toMatch(/shard:\s+b/);
    expect(runCli(['projects', 'create', '--name', 'Second', '--public-key', 'secondpublickey1'], env).stdout).toMatch(/shard:\s+main/);
    expect(runCli(['projects', 'create', '--name', 'Third', '--public-key', 'thirdpublickey1', '--shard', 'b'], env).stdout).toMatch(/shard:\s+b/);
    const listed = runCli(['shards', 'list'], env);
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^main\s+default\s+main\s+1\s+0\s+0\s+\(DATABASE_URL\)$/m);
    expect(listed.stdout).toMatch(/^b\s+default\s+database\s+2\s+0\s+0\s+sqlite:\/\//m);
    const migrated = runCli(['migrate'], env);
    expect(migrated.stdout).toMatch(/^main: up to date$/m);
    expect(migrated.stdout).toMatch(/^b: up to date$/m);

    const again = runCli(['shards', 'add', 'b', shardUrl], env);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('A shard named "b" exists already.');
    expect(runCli(['shards', 'add', 'Bad Name', shardUrl], env).stderr).toContain('must be 1–32 lowercase letters');
    expect(runCli(['shards', 'add', 'pg', 'postgres://127.0.0.1:1/nothing'], env).stderr).toContain('every shard uses the main database');
    // A password would sit in clear in the main database's shard map.
    expect(runCli(['shards', 'add', 'pg', 'postgres://trove:hunter2@127.0.0.1:1/nothing'], env).stderr).toContain('The URL carries a password');
    expect(runCli(['shards', 'add', 'c'], env).stderr).toContain('Missing URL for "trove shards add"');
    expect(runCli(['projects', 'create', '--name', 'Nowhere', '--shard', 'zzz'], env).stderr).toContain('No shard is named "zzz"');
  });

  it('moves a project, survives being killed mid-copy (SIGKILL), resumes, and refuses nonsense', { timeout: 120_000 }, async () => {
    // Enough rows that the copy is still running when the first progress line arrives.
    const { KyselyMetadataStore } = await import('../../src/adapters/db/kysely-metadata-store.js');
    const { KyselyShardSet } = await import('../../src/adapters/db/shard-set.js');
    const { insertFiles } = await import('../../src/services/file-changes.js');
    const { storedFile } = await import('../helpers/stored-file.js');
    const main = new KyselyMetadataStore({ kind: 'sqlite', path: path.join(dataDir, 'trove.db') });
    const shards = await KyselyShardSet.open(main, { configured: [], poolSize: 1, cacheTtlMs: 100 });
    const project = (await main.projects.findByPublicKey('firstpublickey1'))!;
    expect(project.shard).toBe('b');
    const shard = await shards.forProject(project.id);
    const files = Array.from({ length: 3_000 }, () => storedFile({ projectId: project.id }));
    for (let i = 0; i < files.length; i += 500) await insertFiles(shard, files.slice(i, i + 500));

    const child = spawn(process.execPath, [...TSX, MAIN, 'projects', 'move', '--public-key', 'firstpublickey1', '--to', 'main'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const killed = new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/copying files: \d+ rows/.test(stderr) && child.exitCode === null && !child.killed) child.kill('SIGKILL');
      });
      child.once('close', () => resolve());
    });
    await killed;
    expect(child.signalCode).toBe('SIGKILL');
    expect((await main.moves.find(project.id))?.phase).toBe('copying');
    expect((await main.projects.findById(project.id))?.shard).toBe('b');

    const elsewhere = runCli(['projects', 'move', '--public-key', 'firstpublickey1', '--to', 'zzz'], env);
    expect(elsewhere.status).toBe(1);
    expect(elsewhere.stderr).toContain('is under way');
    const resumed = await runCliAsync(['projects', 'move', '--public-key', 'firstpublickey1', '--to', 'main'], env);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('moved from "b" to "main"');
    expect((await main.projects.findById(project.id))?.shard).toBe('main');
    shards.forget(project.id);
    const moved = await shards.forProject(project.id);
    expect(moved.shardName).toBe('main');
    expect((await moved.fileCounters.counts(project.id)).stored + (await moved.fileCounters.counts(project.id)).unstored).toBe(3_000);
    const left = (await shards.fanOut(async (scan) => (scan.shardName === 'b' ? scan.usage.totals() : null))).find((o) => o.shard === 'b');
    expect(left?.ok && left.value?.files).toBe(0);
    expect(runCli(['projects', 'move', '--public-key', 'firstpublickey1', '--rollback'], env).stderr).toContain('no move under way');
    expect(runCli(['projects', 'move', '--public-key', 'firstpublickey1'], env).stderr).toContain('Give --to SHARD, --region REGION (or both), or --rollback.');
    await shards.close();
    await main.close();
  });
});

describe('trove regions', () => {
  let dataDir: string;
  let env: Record<string, string>;
  /** Where a region's fs storage keeps the original of `uuid`. */
  const original = (region: string, uuid: string) => path.join(dataDir, region, 'originals', uuid.slice(0, 2), uuid);
  const exists = (file: string) => stat(file).then(() => true, () => false);
  const projectBlock = (listed: string, publicKey: string) => listed.split('\n\n').find((block) => block.includes(`  public key:     ${publicKey}\n`)) ?? '';

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'trove-regions-cli-'));
    env = {
      DATA_DIR: dataDir,
      TROVE_SHARD_CACHE_TTL: '100ms',
      TROVE_DEFAULT_REGION: 'east',
      STORAGE_URL: `file://${path.join(dataDir, 'east')}`,
      TROVE_REGIONS: `west=file://${path.join(dataDir, 'west')}`,
      TROVE_SHARDS: `b=sqlite://${path.join(dataDir, 'shard-b.db')},w@west=sqlite://${path.join(dataDir, 'shard-w.db')}`,
    };
    // Before commands run at once: processes migrating a new SQLite database together race each other.
    const migrated = await runCliAsync(['migrate'], env);
    expect(migrated.status, migrated.stderr).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  // Each command line takes seconds to start: the commands that do not depend on each other run at once.
  it('adds shards and creates projects in declared regions only, and lists each with its region', { timeout: 120_000 }, async () => {
    const [added, north, east, nowhere, astray] = await Promise.all([
      runCliAsync(['shards', 'add', 'c', `sqlite://${path.join(dataDir, 'shard-c.db')}`, '--region', 'west'], env),
      runCliAsync(['shards', 'add', 'n', `sqlite://${path.join(dataDir, 'shard-n.db')}`, '--region', 'north'], env),
      runCliAsync(['projects', 'create', '--name', 'East', '--public-key', 'eastpublickey1'], env),
      runCliAsync(['projects', 'create', '--name', 'North', '--public-key', 'northpublickey1', '--region', 'north'], env),
      runCliAsync(['projects', 'create', '--name', 'Astray', '--public-key', 'astraypublickey1', '--region', 'west', '--shard', 'b'], env),
    ]);
    expect(added.status, added.stderr).toBe(0);
    expect(added.stdout).toContain('added shard "c"');
    expect(added.stdout).toContain('in region "west"');
    expect(north.status).toBe(1);
    expect(north.stderr).toContain('No region is named "north"; the regions are east, west');
    expect(east.status, east.stderr).toBe(0);
    expect(east.stdout).toMatch(/^ {2}region: {9}east$/m);
    expect(east.stdout).toMatch(/^ {2}shard: {10}(main|b)$/m);
    expect(nowhere.status).toBe(1);
    expect(nowhere.stderr).toContain('No region is named "north"');
    expect(astray.status).toBe(1);
    expect(astray.stderr).toContain('Shard "b" is in region "east", not "west".');

    const west = await runCliAsync(['projects', 'create', '--name', 'West', '--public-key', 'westpublickey1', '--region', 'west'], env);
    expect(west.status, west.stderr).toBe(0);
    expect(west.stdout).toMatch(/^ {2}region: {9}west$/m);
    expect(west.stdout).toMatch(/^ {2}shard: {10}(w|c)$/m);

    const [shards, projects] = await Promise.all([runCliAsync(['shards', 'list'], env), runCliAsync(['projects', 'list'], env)]);
    expect(shards.status, shards.stderr).toBe(0);
    expect(shards.stdout).toMatch(/^SHARD\s+REGION\s+SOURCE\s+PROJECTS\s+FILES\s+BYTES\s+URL$/m);
    expect(shards.stdout).toMatch(/^main\s+east\s+main\s+[01]\s+0\s+0\s+\(DATABASE_URL\)$/m);
    expect(shards.stdout).toMatch(/^b\s+east\s+environment\s+[01]\s+0\s+0\s+sqlite:\/\//m);
    expect(shards.stdout).toMatch(/^w\s+west\s+environment\s+[01]\s+0\s+0\s+sqlite:\/\//m);
    expect(shards.stdout).toMatch(/^c\s+west\s+database\s+[01]\s+0\s+0\s+sqlite:\/\//m);
    expect(shards.stdout).not.toMatch(/^n\s/m);
    expect(projects.status, projects.stderr).toBe(0);
    expect(projectBlock(projects.stdout, 'westpublickey1')).toMatch(/^ {2}region: {9}west$/m);
    expect(projectBlock(projects.stdout, 'eastpublickey1')).toMatch(/^ {2}region: {9}east$/m);
    expect(projects.stdout).not.toContain('northpublickey1');
    expect(projects.stdout).not.toContain('astraypublickey1');
  });

  it('moves a project to another region with its originals, while a server keeps serving them', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, [...TSX, MAIN, 'serve'], {
      env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      await waitForHealth(url, child);
      const contents = Array.from({ length: 4 }, (_, i) => `west file number ${i}\n`.repeat(i + 1));
      const uuids: string[] = [];
      for (const [i, content] of contents.entries()) {
        const form = new FormData();
        form.set('UPLOADCARE_PUB_KEY', 'westpublickey1');
        form.set('file', new Blob([content]), `w${i}.txt`);
        const response = await fetch(`${url}/upload/base/`, { method: 'POST', body: form });
        expect(response.status).toBe(200);
        uuids.push(((await response.json()) as { file: string }).file);
      }
      for (const [i, uuid] of uuids.entries()) {
        expect(await readFile(original('west', uuid), 'utf8')).toBe(contents[i]);
        expect(await exists(original('east', uuid))).toBe(false);
      }

      const moved = await runCliAsync(['projects', 'move', '--public-key', 'westpublickey1', '--region', 'east'], env);
      expect(moved.status, moved.stderr).toBe(0);
      expect(moved.stdout).toMatch(/^project westpublickey1: moved from "(w|c)" to "(main|b)"$/m);
      expect(moved.stderr).toContain(`originals: ${uuids.length} copied`);
      for (const [i, uuid] of uuids.entries()) {
        expect(await readFile(original('east', uuid), 'utf8')).toBe(contents[i]);
        expect(await exists(original('west', uuid))).toBe(false);
      }
      // The server has seen the switch (its shard cache lives 100 ms): it reads them from east now.
      for (const [i, uuid] of uuids.entries()) {
        const response = await fetch(`${url}/${uuid}/`);
        expect(response.status, uuid).toBe(200);
        expect(await response.text()).toBe(contents[i]);
      }

      const [listed, again, nowhere] = await Promise.all([
        runCliAsync(['projects', 'list'], env),
        runCliAsync(['projects', 'move', '--public-key', 'westpublickey1', '--region', 'east'], env),
        runCliAsync(['projects', 'move', '--public-key', 'westpublickey1', '--region', 'north'], env),
      ]);
      expect(projectBlock(listed.stdout, 'westpublickey1')).toMatch(/^ {2}region: {9}east$/m);
      expect(projectBlock(listed.stdout, 'westpublickey1')).toMatch(/^ {2}shard: {10}(main|b)$/m);
      expect(again.status).toBe(1);
      expect(again.stderr).toContain('The project is in region "east" already');
      expect(nowhere.status).toBe(1);
      expect(nowhere.stderr).toContain('No region is named "north"');

      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
