import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { runsJobs } from '../../src/config/config.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createTransformNodeContext, createTrove, type TransformNode, type Trove } from '../../src/context.js';
import type { LockService } from '../../src/ports/lock-service.js';
import type { ProjectShard } from '../../src/ports/shards.js';
import type { ServiceLogger } from '../../src/wiring/basics.js';
import { createTestDatabase, type BackendName } from './backends.js';
import { allocatedBytes } from './disk-usage.js';
import { MutableClock } from './clock.js';
import { startS3Server, type TestS3Server } from './s3-server.js';

export interface TestTrove {
  backend: BackendName;
  /** http://127.0.0.1:port */
  url: string;
  /** Base URL for the Upload API (what SDKs take as baseURL). */
  uploadUrl: string;
  publicKey: string;
  secretKey: string;
  ctx: Trove;
  app: FastifyInstance;
  clock: MutableClock;
  dataDir: string;
  /** Objects under `originals/` in the blob store: a test of "nothing left behind" compares it. */
  countOriginals(): Promise<number>;
  /** Temporary files a failed write could leave (filesystem store only; 0 for S3). */
  countStagingFiles(): Promise<number>;
  /** Disk blocks held by unfinished writes (filesystem store only; 0 for S3). */
  stagedBytes(): Promise<number>;
  /** The shard holding a project's files (default: the test project's), as services reach it. */
  projectShard(publicKey?: string): Promise<ProjectShard>;
  close(): Promise<void>;
}

/** PostgreSQL + an in-process S3 server that several nodes share (`startTrove({ shared })`, `startTransformNode`). */
export interface SharedScaleBackend {
  /** DATABASE_URL, STORAGE_URL and the S3 credentials. */
  env: Record<string, string>;
  /** The blob store's settings alone: what a transform node gets. */
  storageEnv: Record<string, string>;
  close(): Promise<void>;
}

export async function createSharedScaleBackend(): Promise<SharedScaleBackend> {
  const database = await createTestDatabase();
  const shard = await createTestDatabase();
  const s3 = await startS3Server();
  const storageEnv = {
    STORAGE_URL: `s3://${s3.bucket}?endpoint=${encodeURIComponent(s3.endpoint)}&region=${s3.region}&forcePathStyle=true`,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
  };
  return {
    // Every suite runs sharded: the main database and a second shard, `b`, where the default project goes.
    env: { DATABASE_URL: database.url, TROVE_SHARDS: `b=${shard.url}`, ...storageEnv },
    storageEnv,
    async close() {
      await s3.stop();
      await database.drop().catch(() => undefined);
      await shard.drop().catch(() => undefined);
    },
  };
}

interface StartOptions {
  backend?: BackendName;
  /** Runs on this PostgreSQL + S3 (backend 'scale'), which outlives the server: its owner closes it. */
  shared?: SharedScaleBackend;
  /** Extra environment, e.g. { TROVE_MAX_DIRECT_UPLOAD_SIZE: '2MiB' }. */
  env?: Record<string, string>;
  /** Replaces the lock service (two in-process nodes sharing one, as processes share Redis). */
  locks?: LockService;
  /** Receives what services log (a test that checks a logged reason). */
  logger?: ServiceLogger;
}

async function countFiles(dir: string): Promise<number> {
  let count = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    count += entry.isDirectory() ? await countFiles(path.join(dir, entry.name)) : 1;
  }
  return count;
}

/** Starts a real Trove server on a loopback port, on its own data folder (and database and bucket). */
export async function startTrove(options: StartOptions = {}): Promise<TestTrove> {
  const backend = options.backend ?? 'embedded';
  const dataDir = await mkdtemp(path.join(tmpdir(), 'trove-test-'));
  const publicKey = `pk_${randomBytes(8).toString('hex')}`;
  const secretKey = `sk_${randomBytes(16).toString('hex')}`;
  const env: Record<string, string> = {
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    TROVE_PUBLIC_KEY: publicKey,
    TROVE_SECRET_KEY: secretKey,
    TROVE_FETCH_ALLOW_PRIVATE: 'true',
    // Every image upload would start the face model (about 2 s of CPU per server) and detect in the
    // background, beside suites that time their requests; the face suites turn it on.
    TROVE_FACE_MODEL: 'off',
  };
  let s3: TestS3Server | null = null;
  let database: { url: string; drop(): Promise<void> } | null = null;
  let shardDatabase: { url: string; drop(): Promise<void> } | null = null;
  // Every suite runs sharded: the main database and a second shard, `b`. Placement sends the first
  // project (the default one) to `b` (both are empty; ties go by name), and the next one to `main`.
  if (backend === 'scale' && options.shared) {
    Object.assign(env, options.shared.env);
  } else if (backend === 'scale') {
    database = await createTestDatabase();
    shardDatabase = await createTestDatabase();
    s3 = await startS3Server();
    env.DATABASE_URL = database.url;
    env.TROVE_SHARDS = `b=${shardDatabase.url}`;
    env.STORAGE_URL = `s3://${s3.bucket}?endpoint=${encodeURIComponent(s3.endpoint)}&region=${s3.region}&forcePathStyle=true`;
    env.AWS_ACCESS_KEY_ID = s3.accessKeyId;
    env.AWS_SECRET_ACCESS_KEY = s3.secretAccessKey;
  }
  Object.assign(env, options.env ?? {});
  // Beside the main database, so nodes given one DATA_DIR share the shard too.
  if (backend === 'embedded' && env.TROVE_SHARDS === undefined) env.TROVE_SHARDS = `b=sqlite://${path.join(path.resolve(env.DATA_DIR!), 'shard-b.db')}`;
  const config = loadConfig(env);
  const clock = new MutableClock();
  const ctx = await createTrove(config, {
    clock,
    collectDefaultMetrics: false,
    ...(options.locks ? { locks: options.locks } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  await ctx.services.projects.ensureDefaultProject(config.bootstrap);
  const app = await buildApp(ctx.http, { logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  if (runsJobs(config.roles)) await ctx.startJobs({ dispatchIntervalMs: 1_000 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no port');
  const url = `http://127.0.0.1:${address.port}`;

  const s3Client =
    s3 &&
    new S3Client({
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
  const s3Bucket = s3?.bucket;

  return {
    backend,
    url,
    uploadUrl: `${url}${config.http.uploadPrefix}`,
    // Nodes of one cluster are given the same keys through `env`.
    publicKey: env.TROVE_PUBLIC_KEY!,
    secretKey: env.TROVE_SECRET_KEY!,
    ctx,
    app,
    clock,
    dataDir,
    async countOriginals() {
      if (s3Client && s3Bucket) {
        const listed = await s3Client.send(new ListObjectsV2Command({ Bucket: s3Bucket, Prefix: 'originals/' }));
        return listed.KeyCount ?? listed.Contents?.length ?? 0;
      }
      return countFiles(path.join(dataDir, 'blobs', 'originals'));
    },
    async countStagingFiles() {
      return s3Client ? 0 : countFiles(path.join(dataDir, 'blobs', '.staging'));
    },
    async stagedBytes() {
      return s3Client ? 0 : allocatedBytes(path.join(dataDir, 'blobs', '.staging'));
    },
    async close() {
      await app.close();
      await ctx.close();
      s3Client?.destroy();
      await s3?.stop();
      await database?.drop().catch(() => undefined);
      await shardDatabase?.drop().catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
    },
    async projectShard(publicKey = env.TROVE_PUBLIC_KEY!) {
      const project = await ctx.metadata.projects.findByPublicKey(publicKey);
      if (!project) throw new Error(`no project has the public key ${publicKey}`);
      return ctx.shards.forProject(project.id);
    },
  };
}

export interface TestTransformNode {
  /** http://127.0.0.1:port */
  url: string;
  dataDir: string;
  node: TransformNode;
  app: FastifyInstance;
  /** The value of a metric line, e.g. `trove_transform_duration_seconds_count`; 0 when absent. */
  metric(line: string): Promise<number>;
  /** Stops serving (the port closes, connections are dropped) but keeps the data folder. */
  stop(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A transform-only Trove (`TROVE_ROLES=transform`) on a loopback port: no DATABASE_URL is given, so
 * it must open none. `env` brings the blob store's settings and TROVE_INTERNAL_SECRET.
 */
export async function startTransformNode(options: { env: Record<string, string> }): Promise<TestTransformNode> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'trove-transform-'));
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', TROVE_ROLES: 'transform', ...options.env });
  const node = createTransformNodeContext(config, { collectDefaultMetrics: false });
  const app = await buildApp(node.http, { logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no port');
  const url = `http://127.0.0.1:${address.port}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    app.server.closeAllConnections();
    await app.close();
  };
  return {
    url,
    dataDir,
    node,
    app,
    async metric(line) {
      const text = await node.metrics.render();
      const found = text.split('\n').find((l) => l.startsWith(`${line} `));
      return found ? Number(found.slice(line.length + 1)) : 0;
    },
    stop,
    async close() {
      await stop();
      await node.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
