/**
 * A transform-only Trove (`TROVE_ROLES=transform`) started without any database setting: it must
 * create no database, and it transforms only jobs signed with TROVE_INTERNAL_SECRET, reading the
 * original from the blob store.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { originalBlobKey } from '../../src/domain/blob-layout.js';
import { signInternalRequest } from '../../src/domain/internal-signature.js';
import { parseUploadcarePath } from '../../src/domain/transform/uploadcare-parser.js';
import type { TransformJob } from '../../src/ports/transform-runner.js';
import { makeJpeg } from '../helpers/images.js';
import { startTransformNode, type TestTransformNode } from '../helpers/trove-server.js';

const SECRET = 'a-shared-internal-secret-of-40-characters!';
const LIMITS = loadConfig({}).transform;

let node: TestTransformNode;
let large: TestTransformNode;
const uuid = randomUUID();
let original: Buffer;

function jobFor(path: string, overrides: Partial<TransformJob> = {}): TransformJob {
  return {
    key: `derivatives/${uuid}/test-webp`,
    projectId: 'project-1',
    priority: 'interactive',
    source: { uuid, blobKey: originalBlobKey(uuid), size: original.length, mimeType: 'image/jpeg' },
    overlays: {},
    plan: parseUploadcarePath(path, LIMITS).plan,
    variant: 'webp',
    ...overrides,
  };
}

async function post(target: TestTransformNode, body: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${target.url}/internal/transform`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

function signed(body: string, options: { secret?: string; timestamp?: number } = {}): Record<string, string> {
  const timestamp = options.timestamp ?? Date.now();
  return { 'x-trove-timestamp': String(timestamp), 'x-trove-signature': signInternalRequest(options.secret ?? SECRET, timestamp, body) };
}

async function putOriginal(target: TestTransformNode): Promise<void> {
  await target.node.blobs.put(originalBlobKey(uuid), Readable.from([original]), { size: original.length });
}

beforeAll(async () => {
  original = await makeJpeg({ width: 320, height: 200, noise: true });
  // No DATABASE_URL, no STORAGE_URL: the blob store is DATA_DIR/blobs, and nothing else may appear there.
  node = await startTransformNode({ env: { TROVE_INTERNAL_SECRET: SECRET } });
  large = await startTransformNode({ env: { TROVE_INTERNAL_SECRET: SECRET, TROVE_MAX_SOURCE_PIXELS: '1000' } });
  await putOriginal(node);
  await putOriginal(large);
}, 60_000);

afterAll(async () => {
  await node?.close();
  await large?.close();
});

describe('a transform-only node', () => {
  it('opens no database: its data folder holds only the blob store', async () => {
    const body = JSON.stringify(jobFor('-/resize/100x/-/format/webp/'));
    expect((await post(node, body, signed(body))).status).toBe(200);
    expect(await readdir(node.dataDir)).toEqual(['blobs']);
  });

  it('serves /health, /ready (the blob store alone) and /metrics, and hides its endpoint from /openapi.json', async () => {
    expect((await fetch(`${node.url}/health`)).status).toBe(200);
    const ready = await fetch(`${node.url}/ready`);
    expect(ready.status).toBe(200);
    const report = (await ready.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    expect(report.status).toBe('ready');
    expect(Object.keys(report.checks)).toEqual(['storage']);
    expect(await (await fetch(`${node.url}/metrics`)).text()).toContain('trove_transform_duration_seconds_count');
    const openapi = await (await fetch(`${node.url}/openapi.json`)).text();
    expect(openapi).not.toContain('/internal/transform');
    // No delivery, upload or REST routes on this node.
    expect((await fetch(`${node.url}/${uuid}/`)).status).toBe(404);
  });

  it('transforms a signed job and answers the derivative bytes with their type', async () => {
    const before = await node.metric('trove_transform_duration_seconds_count');
    const body = JSON.stringify(jobFor('-/resize/100x/-/format/webp/'));
    const response = await post(node, body, signed(body));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/webp');
    const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
    expect(meta.format).toBe('webp');
    expect(meta.width).toBe(100);
    expect(meta.height).toBe(63);
    expect(await node.metric('trove_transform_duration_seconds_count')).toBe(before + 1);
  });

  it('answers 401 to a missing or wrong signature and to an old timestamp, without transforming', async () => {
    const before = await node.metric('trove_transform_duration_seconds_count');
    const body = JSON.stringify(jobFor('-/resize/90x/-/format/webp/'));
    const cases: Array<[string, Record<string, string>]> = [
      ['unsigned', {}],
      ['timestamp only', { 'x-trove-timestamp': String(Date.now()) }],
      ['another secret', signed(body, { secret: 'another-secret-that-is-long-enough-1234' })],
      ['two minutes old', signed(body, { timestamp: Date.now() - 120_000 })],
      ['from the future', signed(body, { timestamp: Date.now() + 120_000 })],
      ['another body', signed(JSON.stringify(jobFor('-/resize/80x/-/format/webp/')))],
      ['not a number', { ...signed(body), 'x-trove-timestamp': 'yesterday' }],
    ];
    for (const [name, headers] of cases) {
      const response = await post(node, body, headers);
      expect(response.status, name).toBe(401);
      const answer = (await response.json()) as { code: string; message: string };
      expect(answer.code, name).toBe('INTERNAL_SIGNATURE_INVALID');
      expect(answer.message, name).toMatch(/X-Trove-(Timestamp|Signature)/);
    }
    expect(await node.metric('trove_transform_duration_seconds_count')).toBe(before);
  });

  it('answers 400 naming the problem to a signed job that is malformed', async () => {
    const job = jobFor('-/resize/100x/');
    const cases: Array<[string, string, RegExp]> = [
      ['not JSON', '{"key": ', /not valid JSON/],
      ['no plan', JSON.stringify({ ...job, plan: undefined }), /plan/],
      ['unknown variant', JSON.stringify({ ...job, variant: 'bmp' }), /variant/],
      ['negative size', JSON.stringify({ ...job, source: { ...job.source, size: -1 } }), /size/],
      ['a key outside originals', JSON.stringify({ ...job, source: { ...job.source, blobKey: `derivatives/${uuid}/x` } }), /blobKey is not the original/],
      ['not a uuid', JSON.stringify({ ...job, source: { ...job.source, uuid: '../etc' } }), /not a file uuid/],
    ];
    for (const [name, body, message] of cases) {
      const response = await post(node, body, signed(body));
      expect(response.status, name).toBe(400);
      const answer = (await response.json()) as { code: string; message: string };
      expect(answer.code, name).toBe('TRANSFORM_JOB_INVALID');
      expect(answer.message, name).toMatch(message);
    }
  });

  it('refuses a job larger than a job can be with 413, before reading it', async () => {
    const body = JSON.stringify({ padding: 'x'.repeat(300 * 1024) });
    const response = await post(node, body, signed(body));
    expect(response.status).toBe(413);
  });

  it('sends an engine refusal back with its code, status, message and X-Trove-Refusal', async () => {
    const body = JSON.stringify(jobFor('-/resize/100x/-/format/webp/'));
    const response = await post(large, body, signed(body));
    expect(response.status).toBe(422);
    expect(response.headers.get('x-trove-refusal')).toBe('SOURCE_TOO_LARGE');
    const answer = (await response.json()) as { code: string; message: string };
    expect(answer.code).toBe('SOURCE_TOO_LARGE');
    expect(answer.message).toMatch(/1000/);
  });

  it('answers 404 for a job whose original is not in the blob store', async () => {
    const missing = randomUUID();
    const body = JSON.stringify(jobFor('-/resize/100x/', { source: { uuid: missing, blobKey: originalBlobKey(missing), size: 10, mimeType: 'image/jpeg' } }));
    const response = await post(node, body, signed(body));
    expect(response.status).toBe(404);
    expect(response.headers.get('x-trove-refusal')).toBe('FILE_NOT_FOUND');
  });
});

describe('configuration of the transform tier', () => {
  it('requires TROVE_INTERNAL_SECRET of at least 32 characters with the transform role or transform nodes', () => {
    expect(() => loadConfig({ TROVE_ROLES: 'transform' })).toThrow(/TROVE_INTERNAL_SECRET: required with the transform role/);
    expect(() => loadConfig({ TROVE_TRANSFORM_NODES: 'http://10.0.0.5:3000' })).toThrow(/TROVE_INTERNAL_SECRET: required with TROVE_TRANSFORM_NODES/);
    expect(() => loadConfig({ TROVE_ROLES: 'transform', TROVE_INTERNAL_SECRET: 'short' })).toThrow(/at least 32 characters/);
    expect(() => loadConfig({ TROVE_TRANSFORM_NODES: 'http://10.0.0.5:3000/path', TROVE_INTERNAL_SECRET: SECRET })).toThrow(/origin/);
    expect(() => loadConfig({ TROVE_TRANSFORM_NODES: 'http://a:1,http://a:1', TROVE_INTERNAL_SECRET: SECRET })).toThrow(/twice/);
    const config = loadConfig({ TROVE_TRANSFORM_NODES: ' http://10.0.0.5:3000 , http://10.0.0.6:3000/ ', TROVE_INTERNAL_SECRET: SECRET });
    expect(config.transformTier.nodes).toEqual(['http://10.0.0.5:3000', 'http://10.0.0.6:3000']);
    expect([...loadConfig({}).roles]).not.toContain('transform');
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

describe('trove serve --roles transform', () => {
  it('starts without database settings, creates no database, answers /ready from the blob store and stops on SIGTERM', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'trove-serve-transform-'));
    const port = await freePort();
    const env: Record<string, string | undefined> = { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', TROVE_INTERNAL_SECRET: SECRET, LOG_LEVEL: 'info' };
    delete env.DATABASE_URL;
    delete env.REDIS_URL;
    delete env.TROVE_ROLES;
    const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('src/main.ts'), 'serve', '--roles', 'transform'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 100_000;
      let ready: Response | null = null;
      while (!ready && Date.now() < deadline) {
        ready = await fetch(`http://127.0.0.1:${port}/ready`).catch(() => null);
        if (!ready) await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(ready?.status, output).toBe(200);
      expect(Object.keys(((await ready!.json()) as { checks: object }).checks)).toEqual(['storage']);
      expect((await fetch(`http://127.0.0.1:${port}/internal/transform`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
      expect(output).toMatch(/"database":"none"/);
      expect(await readdir(dataDir)).toEqual(['blobs']);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 150_000);
});
