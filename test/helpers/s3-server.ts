/**
 * An in-process S3 server (s3rver 3.x) for tests.
 *
 * What we learned pairing s3rver with the current AWS SDK v3 (client-s3 3.11xx):
 * - Use `requestChecksum: 'when_required'`. With the SDK default ('when_supported') a streamed
 *   body (UploadPart with a Readable) goes out as `Content-Encoding: aws-chunked` with a CRC32
 *   trailer; s3rver does not decode aws-chunked and stores the chunk framing as object bytes.
 * - s3rver never verifies SigV4 signatures (only that the access key is `S3RVER`) and ignores
 *   `x-amz-checksum-*` headers, so the CRC32 the SDK still adds to DeleteObjects is harmless.
 * - AbortMultipartUpload is not implemented (405 MethodNotAllowed). S3BlobStore treats 405/501 on
 *   abort as "nothing to do": uncompleted parts are invisible either way.
 * - `Range: bytes=0-0` is read as "0 to end" (it tests `end` for truthiness), so S3BlobStore trims
 *   any ranged body that is longer than requested.
 * - s3rver DES-encrypts ListObjectsV2 continuation tokens. OpenSSL 3 (Node >= 17) has single DES
 *   only in its legacy provider, so every truncated listing (> 1000 keys) fails with a 500
 *   InternalError. startS3Server() reroutes s3rver's 'des' to the equivalent two-key 3DES with
 *   K1 = K2 (see allowS3rverContinuationTokens); tokens must also be minted for us-east-1.
 * - Parts smaller than 5 MiB are accepted (real S3 rejects them at Complete), ETags of parts are
 *   not checked at Complete, and HeadBucket is served by the list-objects route.
 */
import type { IncomingMessage, Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestS3Server {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Calls `listener` with every request the server receives (headers as sent); returns the way to stop. */
  observe(listener: (request: IncomingMessage) => void): () => void;
  stop(): Promise<void>;
}

interface S3rverOptions {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  vhostBuckets: boolean;
  configureBuckets: Array<{ name: string }>;
}

interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
  httpServer?: Server;
}

type S3rverConstructor = new (options: S3rverOptions) => S3rverInstance;

const requireCjs = createRequire(import.meta.url);
// s3rver is CommonJS and ships no type declarations.
const S3rver = requireCjs('s3rver') as S3rverConstructor;

type CipherFactory = (algorithm: string, key: Buffer, iv: Buffer, ...rest: unknown[]) => unknown;
interface PatchableCrypto {
  createCipheriv: CipherFactory;
  createDecipheriv: CipherFactory;
}
let continuationTokensAllowed = false;

/**
 * Makes s3rver's continuation tokens work on OpenSSL 3: its single-DES 'des' (CBC, 8-byte key)
 * becomes 'des-ede-cbc' with the key doubled, which computes exactly the same cipher. Only calls
 * naming 'des' change, and nothing else in this process asks for that retired algorithm.
 */
function allowS3rverContinuationTokens(): void {
  if (continuationTokensAllowed) return;
  continuationTokensAllowed = true;
  // The CommonJS module object: the one s3rver's require('crypto') sees, and writable.
  const nodeCrypto = requireCjs('node:crypto') as PatchableCrypto;
  const reroute =
    (original: CipherFactory): CipherFactory =>
    (algorithm, key, iv, ...rest) =>
      algorithm === 'des'
        ? original('des-ede-cbc', Buffer.concat([key, key]), iv, ...rest)
        : original(algorithm, key, iv, ...rest);
  nodeCrypto.createCipheriv = reroute(nodeCrypto.createCipheriv);
  nodeCrypto.createDecipheriv = reroute(nodeCrypto.createDecipheriv);
}

const BUCKET = 'trove-test';
// s3rver only accepts continuation tokens minted for us-east-1; keep every client on it.
const REGION = 'us-east-1';
const ACCESS_KEY = 'S3RVER';

export async function startS3Server(): Promise<TestS3Server> {
  allowS3rverContinuationTokens();
  const directory = await mkdtemp(path.join(tmpdir(), 'trove-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    // Silences both s3rver's winston logger and Koa's default error printer (app.silent).
    silent: true,
    directory,
    vhostBuckets: false,
    configureBuckets: [{ name: BUCKET }],
  });
  let port: number;
  try {
    ({ port } = await server.run());
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }

  let stopped = false;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket: BUCKET,
    region: REGION,
    accessKeyId: ACCESS_KEY,
    secretAccessKey: ACCESS_KEY,
    observe(listener) {
      const httpServer = server.httpServer;
      if (!httpServer) throw new Error('s3rver has no HTTP server to observe');
      httpServer.on('request', listener);
      return () => void httpServer.off('request', listener);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      // SDK clients keep sockets alive; without this, close() waits for their idle timeout.
      server.httpServer?.closeAllConnections();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
