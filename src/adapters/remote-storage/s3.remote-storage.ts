import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { lookup as systemLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  RemoteStorageError,
  type RemoteBucket,
  type RemotePutOptions,
  type RemoteStorageConnector,
  type RemoteStorageTarget,
} from '../../ports/remote-storage.js';
import { ExactByteCounter, putPartSize, sdkLogger } from '../blob/s3.blob-store.js';
import { BlobSizeMismatchError } from '../blob/errors.js';
import { classifyAddress, ipLiteralOfHostname, type AddressPolicyOptions } from '../fetch/address-policy.js';

/** Resolves a hostname to IP addresses; injectable so tests never depend on real DNS. */
type HostnameResolver = (hostname: string) => Promise<string[]>;

interface S3RemoteStorageOptions extends AddressPolicyOptions {
  resolver?: HostnameResolver;
  /** Deadline of each small request (the write check, a HEAD); uploads are bounded by idle time instead. */
  checkTimeoutMs?: number;
}

const FORBIDDEN_ADDRESS = 'ERR_TROVE_ADDRESS_FORBIDDEN';
const CONNECT_TIMEOUT_MS = 10_000;
const IDLE_TIMEOUT_MS = 60_000;
const DEFAULT_CHECK_TIMEOUT_MS = 20_000;
const PUT_QUEUE_SIZE = 4;
const PROBE_BODY = 'Trove checks that it may write to this storage; this object is deleted at once when it may.\n';

const CREDENTIAL_ERRORS = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'ExpiredToken', 'InvalidSecurity']);
const ACL_ERRORS = new Set(['AccessControlListNotSupported', 'InvalidBucketAclWithObjectOwnership', 'NotImplemented']);

/**
 * Buckets of S3 and S3-compatible services that projects register for remote copies.
 *
 * Connections are made only to addresses the SSRF policy accepts: every hostname the SDK connects
 * to (the endpoint's, or a virtual-hosted bucket's) is resolved by a lookup that refuses the whole
 * host when one address is forbidden, and the socket connects to the address that lookup checked.
 * An endpoint that is an address literal never reaches a lookup, so it is judged when opened.
 */
export class S3RemoteStorageConnector implements RemoteStorageConnector {
  private readonly policy: AddressPolicyOptions;
  private readonly resolve: HostnameResolver;
  private readonly checkTimeoutMs: number;

  constructor(options: S3RemoteStorageOptions) {
    this.policy = { allowPrivate: options.allowPrivate };
    this.resolve = options.resolver ?? resolveWithSystemDns;
    this.checkTimeoutMs = options.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  }

  open(target: RemoteStorageTarget): RemoteBucket {
    if (target.endpoint !== null) this.checkEndpointLiteral(target.endpoint);
    const lookup = guardedLookup(this.policy, this.resolve);
    const client = new S3Client({
      region: target.region,
      endpoint: target.endpoint ?? undefined,
      forcePathStyle: target.forcePathStyle,
      credentials: target.credentials,
      // S3-compatible services differ in what checksums they take; send them only where S3 demands one.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        httpAgent: new http.Agent({ keepAlive: true, lookup }),
        httpsAgent: new https.Agent({ keepAlive: true, lookup }),
        connectionTimeout: CONNECT_TIMEOUT_MS,
        socketTimeout: IDLE_TIMEOUT_MS,
      },
      logger: sdkLogger,
    });
    return new S3RemoteBucket(client, target.bucket, this.checkTimeoutMs);
  }

  private checkEndpointLiteral(endpoint: string): void {
    const host = new URL(endpoint).hostname;
    const literal = ipLiteralOfHostname(host);
    if (literal === null) return;
    const verdict = classifyAddress(literal, this.policy);
    if (verdict.forbidden) throw new RemoteStorageError('ENDPOINT_FORBIDDEN', `the endpoint host ${host} is not allowed: ${verdict.reason ?? verdict.category}`);
  }
}

class S3RemoteBucket implements RemoteBucket {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly checkTimeoutMs: number,
  ) {}

  async checkWrite(probeKey: string): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: probeKey, Body: PROBE_BODY, ContentType: 'text/plain; charset=utf-8' }),
        { abortSignal: AbortSignal.timeout(this.checkTimeoutMs) },
      );
    } catch (error) {
      throw remoteError(error, `writing the check object ${probeKey}`);
    }
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: probeKey }), { abortSignal: AbortSignal.timeout(this.checkTimeoutMs) });
    } catch {
      // Write-only credentials are enough for copies: the small check object then stays.
    }
  }

  async exists(key: string): Promise<boolean | null> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: AbortSignal.timeout(this.checkTimeoutMs) });
      return true;
    } catch (error) {
      const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
      if (status === 404) return false;
      // HEAD needs read permission, which credentials made for copying need not have.
      if (status === 403) return null;
      throw remoteError(error, `looking for ${key}`);
    }
  }

  async put(key: string, body: Readable, options: RemotePutOptions): Promise<void> {
    const expected = options.size;
    const counted = new ExactByteCounter(expected, (received) => new BlobSizeMismatchError(expected ?? 0, received));
    let bodyError: unknown;
    // pipeline, not pipe: an error or early end of `body` must reach lib-storage's reader.
    pipeline(body, counted).catch((error: unknown) => {
      bodyError ??= error;
    });
    let upload: Upload | undefined;
    try {
      upload = new Upload({
        client: this.client,
        params: {
          Bucket: this.bucket,
          Key: key,
          Body: counted,
          ContentType: options.contentType,
          ...(options.publicRead ? { ACL: 'public-read' as const } : {}),
        },
        partSize: putPartSize(expected),
        queueSize: PUT_QUEUE_SIZE,
        // Aborted below, so a failing abort (some services lack it) cannot hide the real error.
        leavePartsOnError: true,
      });
      await upload.done();
    } catch (error) {
      counted.destroy();
      body.destroy();
      if (upload?.uploadId) await this.abortQuietly(key, upload.uploadId);
      if (bodyError !== undefined) throw bodyError;
      throw remoteError(error, `writing ${key}`, options.publicRead);
    }
  }

  close(): void {
    this.client.destroy();
  }

  private async abortQuietly(key: string, uploadId: string): Promise<void> {
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }), {
        abortSignal: AbortSignal.timeout(this.checkTimeoutMs),
      });
    } catch {
      // Unfinished parts are invisible; a lifecycle rule on the bucket reclaims them.
    }
  }
}

/** A failure of the SDK as a RemoteStorageError that says what failed and why. */
function remoteError(error: unknown, doing: string, publicRead = false): RemoteStorageError {
  if (error instanceof RemoteStorageError) return error;
  const forbidden = forbiddenAddressOf(error);
  if (forbidden) return new RemoteStorageError('ENDPOINT_FORBIDDEN', forbidden);
  if (error instanceof S3ServiceException) {
    const status = error.$metadata.httpStatusCode ?? 0;
    const name = error.name;
    const said = `${name}${error.message && error.message !== name && error.message !== 'UnknownError' ? `: ${error.message}` : ''}`;
    if (CREDENTIAL_ERRORS.has(name)) return new RemoteStorageError('CREDENTIALS_REJECTED', `the storage rejected the credentials while ${doing} (${said})`);
    if (name === 'NoSuchBucket') return new RemoteStorageError('BUCKET_NOT_FOUND', `the bucket does not exist at this endpoint (${said})`);
    if (publicRead && (ACL_ERRORS.has(name) || (name === 'InvalidRequest' && /acl/i.test(error.message)))) {
      return new RemoteStorageError('ACL_REJECTED', `the bucket refused the public-read ACL while ${doing} (${said})`);
    }
    if (name === 'AccessDenied' || status === 403) {
      const hint = publicRead ? '; if the bucket blocks public ACLs, copy with make_public=false' : '';
      return new RemoteStorageError('ACCESS_DENIED', `the credentials may not do this while ${doing} (${said})${hint}`);
    }
    if (status >= 500) return new RemoteStorageError('UNREACHABLE', `the storage failed while ${doing} (HTTP ${status}, ${said})`);
    return new RemoteStorageError('REJECTED', `the storage refused ${doing} (HTTP ${status}, ${said})`);
  }
  const message = error instanceof Error ? error.message : String(error);
  const name = error instanceof Error ? error.name : '';
  if (name === 'TimeoutError' || name === 'AbortError') return new RemoteStorageError('UNREACHABLE', `the storage did not answer in time while ${doing}`);
  return new RemoteStorageError('UNREACHABLE', `the storage could not be reached while ${doing} (${message})`);
}

/** The reason of a connection the lookup refused, wherever the SDK put that error. */
function forbiddenAddressOf(error: unknown): string | null {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    if ((current as NodeJS.ErrnoException).code === FORBIDDEN_ADDRESS) return current.message;
  }
  return null;
}

async function resolveWithSystemDns(hostname: string): Promise<string[]> {
  const records = await systemLookup(hostname, { all: true, verbatim: true });
  return records.map((record) => record.address);
}

/**
 * A node:net lookup that resolves, refuses the host when any address is forbidden, and hands the
 * socket only addresses it has checked: no second DNS answer can slip in between check and connect.
 */
function guardedLookup(policy: AddressPolicyOptions, resolve: HostnameResolver): LookupFunction {
  return (hostname, options, callback) => {
    const fail = (message: string, code: string): void => {
      const error: NodeJS.ErrnoException = new Error(message);
      error.code = code;
      callback(error, '');
    };
    resolve(hostname).then(
      (addresses) => {
        const checked: Array<{ address: string; family: 4 | 6 }> = [];
        for (const candidate of addresses) {
          const verdict = classifyAddress(candidate, policy);
          if (verdict.forbidden) {
            fail(`the endpoint host ${hostname} resolves to ${verdict.address}, which is not allowed: ${verdict.reason ?? verdict.category}`, FORBIDDEN_ADDRESS);
            return;
          }
          checked.push({ address: verdict.address, family: verdict.address.includes(':') ? 6 : 4 });
        }
        const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
        const usable = checked.filter((entry) => wanted === 0 || entry.family === wanted);
        const first = usable[0];
        if (first === undefined) {
          fail(`${hostname} has no usable address`, 'ENOTFOUND');
          return;
        }
        if (options.all === true) callback(null, usable);
        else callback(null, first.address, first.family);
      },
      (error: unknown) => fail(`could not resolve ${hostname}: ${error instanceof Error ? error.message : String(error)}`, 'ENOTFOUND'),
    );
  };
}
