import { availableParallelism } from 'node:os';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { FACE_MODELS } from '../domain/faces.js';
import { DEFAULT_ROLES, ROLES, type Config, type DatabaseConfig, type Role, type StorageConfig } from './config.js';
import {
  parseBoolean,
  parseBytes,
  parseClamdUrl,
  parseDatabaseUrl,
  parseShardList,
  SHARD_NAME,
  parseDuration,
  parseEnum,
  parseInteger,
  parseKey256,
  parsePathPrefix,
  parseRateLimit,
  parseUrl,
} from './parse-values.js';
import { parseCloudflareSetting, parseCloudFrontSetting, parseFastlySetting, parseHttpSetting, parseShieldSetting, type PurgeConfig } from './purge-settings.js';

type Env = Readonly<Record<string, string | undefined>>;

/** One documented environment variable. The README's configuration table is printed from this list. */
interface EnvVarDoc {
  name: string;
  default: string;
  description: string;
}

export const ENV_VARS: EnvVarDoc[] = [
  { name: 'PORT', default: '3000', description: 'HTTP port.' },
  { name: 'HOST', default: '0.0.0.0', description: 'Interface to listen on.' },
  { name: 'DATA_DIR', default: './data', description: 'Folder for the embedded SQLite database and file bytes.' },
  { name: 'DATABASE_URL', default: '(SQLite in DATA_DIR)', description: '`postgres://user:pass@host:5432/db` for PostgreSQL, or `sqlite:///abs/path.db`.' },
  { name: 'DATABASE_POOL_SIZE', default: '10', description: 'PostgreSQL connections per process to the main database.' },
  { name: 'TROVE_SHARDS', default: '(none)', description: 'Shard databases besides the main one, as `name=url` pairs separated by commas, e.g. `eu1=postgres://db-eu1/trove,eu2=postgres://db-eu2/trove` (SQLite: `b=sqlite:///var/lib/trove/shard-b.db`). `name@region=url` puts the shard in a region of TROVE_REGIONS (without it, the default region). Each project\'s files live on one shard; `trove shards add` adds shards without a restart. Every shard uses the main database\'s engine.' },
  { name: 'TROVE_DEFAULT_REGION', default: 'default', description: 'The name of the region of STORAGE_URL and of the main database\'s shard: projects created without `--region` live there.' },
  { name: 'TROVE_REGIONS', default: '(none: one region)', description: 'The other regions, as `name=storage_url` pairs separated by commas, e.g. `eu=s3://trove-eu?region=eu-central-1,ap=file:///srv/trove/ap`: each keeps the originals of its projects in its own storage, and its shards are named in TROVE_SHARDS (`eu1@eu=…`) or by `trove shards add --region`. Every node lists every region, since it reads originals from their home region.' },
  { name: 'TROVE_REGION', default: '(TROVE_DEFAULT_REGION)', description: 'The region this node serves in: the derivatives it computes are kept in that region\'s storage.' },
  { name: 'TROVE_REGION_CONFIG_URL', default: '(none: read the main database)', description: 'A database of the region (the main database\'s engine) holding its own copy of the configuration: projects, keys, storages and the shard map. Nodes read the configuration from it and keep working with the last known configuration when the main database is away; the worker processes of the region keep it current from the main database\'s change log.' },
  { name: 'TROVE_CONFIG_SYNC_INTERVAL', default: '200ms', description: 'How often the region\'s syncer reads the main database\'s configuration change log.' },
  { name: 'TROVE_CONFIG_LOG_RETENTION', default: '7d', description: 'How long the main database keeps its configuration change log (the sweep prunes it). A region\'s copy that made no pass for half this long copies the whole configuration again instead of reading the log.' },
  { name: 'TROVE_CONFIG_SYNC_BATCH', default: '500', description: 'Changes the syncer takes from the front of the log per pass, besides the 100 newest: a change of every project at once is copied in passes of this size, while new changes keep arriving within a pass.' },
  { name: 'TROVE_SHARD_POOL_SIZE', default: '4', description: 'PostgreSQL connections per process to each shard.' },
  { name: 'TROVE_SHARD_CACHE_TTL', default: '2s', description: 'How long a process reuses what it read of a project\'s shard; a move waits this long (twice) before cleaning up the shard the project left.' },
  { name: 'STORAGE_URL', default: '(files in DATA_DIR/blobs)', description: '`s3://bucket/optional/prefix?endpoint=http://host:9000&region=us-east-1&forcePathStyle=true`, or `file:///abs/dir`.' },
  { name: 'AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN', default: '(none)', description: 'S3 credentials. Without them the AWS SDK default chain is used.' },
  { name: 'AWS_REGION', default: 'us-east-1', description: 'S3 region when STORAGE_URL does not name one.' },
  { name: 'TROVE_S3_REQUEST_CHECKSUM', default: 'when_required', description: '`when_supported` sends CRC checksums on every S3 request (AWS default); `when_required` only where S3 demands them, which S3-compatible services such as R2 or older MinIO accept.' },
  { name: 'TROVE_ROLES', default: 'upload,api,delivery,worker,video', description: 'Roles this process serves (`trove serve --roles` overrides). `video` runs video conversions (ffmpeg), `worker` every other background job. `transform` (never a default) serves only the internal transformation endpoint; alone, it needs no database.' },
  { name: 'TROVE_TRANSFORM_NODES', default: '(none: transform in process)', description: 'Comma-separated origins of transform nodes (`http://10.0.0.5:3000,http://10.0.0.6:3000`): cache misses are transformed there, each derivative on the node its key hashes to, the next one when that node is down. Needs `TROVE_INTERNAL_SECRET`.' },
  { name: 'TROVE_INTERNAL_SECRET', default: '(none)', description: 'Shared secret (at least 32 characters) that signs transformation jobs between nodes; required with `TROVE_TRANSFORM_NODES` and on nodes with the `transform` role, the same on all of them.' },
  { name: 'TROVE_WORKERS', default: '1', description: 'HTTP processes sharing the port (`auto`: one per CPU core). With more than one, a primary process runs migrations and the background sweep.' },
  { name: 'MALLOC_ARENA_MAX', default: '2 (set by npm start)', description: "Read by glibc when the process starts, not by Trove: caps malloc's per-thread arenas, without which RSS climbs under image work. `trove serve` warns at start when it runs on glibc with neither this nor jemalloc (`LD_PRELOAD`)." },
  { name: 'LOG_LEVEL', default: 'info', description: 'fatal, error, warn, info, debug, trace or silent.' },
  { name: 'TROVE_PUBLIC_URL', default: '(from the request)', description: 'Absolute URL clients reach Trove at, used in multipart part URLs and CDN URLs.' },
  { name: 'TROVE_UPLOAD_PREFIX', default: '/upload', description: 'Path the Upload API is mounted at.' },
  { name: 'TROVE_REST_PREFIX', default: '(root)', description: 'Path the REST API is mounted at. Uploadcare\'s REST SDKs keep only the host of their base URL, so they need the root.' },
  { name: 'REDIS_URL', default: '(none: in process)', description: '`redis://[:password@]host:6379[/db]`: locks, rate limits, cache evictions and jobs (BullMQ) shared by every Trove node.' },
  { name: 'TROVE_RATE_LIMIT_REST_READ', default: '50:150', description: 'REST API reads per project: `<per second>:<burst>`, or `off`. Over it: 429 with Retry-After.' },
  { name: 'TROVE_RATE_LIMIT_REST_WRITE', default: '20:60', description: 'REST API writes per project (`<per second>:<burst>` or `off`).' },
  { name: 'TROVE_RATE_LIMIT_UPLOAD', default: '50:200', description: 'Upload API calls per project (`<per second>:<burst>` or `off`).' },
  { name: 'TROVE_RATE_LIMIT_DELIVERY_MISS', default: '50:500', description: 'New transformations per project (`<per second>:<burst>` or `off`); cache hits are never limited.' },
  { name: 'TROVE_JOB_CONCURRENCY', default: '8', description: 'Background jobs (webhook deliveries, purges) running at once per worker process.' },
  { name: 'TROVE_WEBHOOK_TIMEOUT', default: '10s', description: 'Deadline of one webhook delivery attempt. An attempt lost with its worker is taken again after 3 × this + 5 s.' },
  { name: 'TROVE_WEBHOOK_RETRY_BASE', default: '10s', description: 'Wait before retrying a failed delivery; it doubles per attempt up to 2 h, 21 attempts (about a day with the default).' },
  { name: 'TROVE_CLAMD_URL', default: '(none: no virus scanning)', description: 'Where ClamAV\'s clamd listens, `tcp://127.0.0.1:3310` or `unix:/run/clamav/clamd.ctl`: turns on the `uc_clamav_virus_scan` add-on and scanning on upload. Unset, the add-on answers 503 and `/ready` says why.' },
  { name: 'TROVE_CLAMD_TIMEOUT', default: '60s', description: 'Deadline of one exchange with clamd, sending a whole file and reading its verdict included; a scan that times out is retried.' },
  { name: 'TROVE_CLAMD_MAX_STREAM', default: '25MiB', description: 'The StreamMaxLength of your clamd (its default is 25 MiB): larger files are not sent, and their scan ends in an error that says so (a file held by scan-on-upload then stays held). Raise both together.' },
  { name: 'TROVE_FFMPEG_PATH', default: 'ffmpeg', description: 'The ffmpeg program video conversions run (found on PATH by default). When it or ffprobe is missing, Trove still starts: `/ready` says video is unavailable and why, uploads keep `video_info` null and conversions answer 503.' },
  { name: 'TROVE_FFPROBE_PATH', default: 'ffprobe', description: 'The ffprobe program that reads a video\'s facts at upload (`content_info.video`, `video_info`).' },
  { name: 'TROVE_VIDEO_PROBE_TIMEOUT', default: '10s', description: 'Deadline of one ffprobe run at upload; a file it cannot read in time is kept as a plain file, without video facts.' },
  { name: 'TROVE_VIDEO_TIMEOUT', default: '30m', description: 'Deadline of one video conversion (transcode and thumbnails) and of one HLS ladder\'s ffmpeg run; ffmpeg is killed and the job fails with the reason (an HLS ladder is tried again later, see HLS streaming).' },
  { name: 'TROVE_VIDEO_CONCURRENCY', default: '1', description: 'Video conversions and HLS ladders running at once in each video process (each ffmpeg uses 2 threads), leased apart from TROVE_JOB_CONCURRENCY; the rest stay queued for any video node, and projects take turns in the queue.' },
  { name: 'TROVE_VIDEO_MAX_FILE_SIZE', default: '2GiB', description: 'Largest video Trove converts; `gif2video` converts GIFs up to the lower of this and `TROVE_MAX_SOURCE_SIZE`.' },
  { name: 'TROVE_VIDEO_MAX_DURATION', default: '1h', description: 'Longest video Trove converts (as the probe reads it), and longest GIF `gif2video` converts.' },
  { name: 'TROVE_VIDEO_MAX_DIMENSION', default: '4096', description: 'Longest side, in pixels, of a video Trove converts, of a conversion\'s requested size, and of a GIF `gif2video` converts.' },
  { name: 'TROVE_VIDEO_MAX_FRAME_RATE', default: '120', description: 'Highest frame rate of a video Trove converts.' },
  { name: 'TROVE_VIDEO_MAX_STREAMS', default: '16', description: 'Most streams (video, audio, subtitles, data) of a video: ffprobe stops reading a file with more at upload (it is kept without video facts), and Trove converts none with more.' },
  { name: 'TROVE_FACE_MODEL', default: 'ssd', description: 'Face detector for `/:uuid/detect_faces/`, `-/crop/face/`, `-/crop/faces/`, `-/blur_region/faces/` and the face-first smart crops: `ssd` (SSD MobileNet v1, the more accurate), `tiny` (Tiny Face Detector, about 4× faster, misses many faces) or `off` (face operations answer 503; smart crops use saliency alone). Runs offline in a worker thread; the weights ship with the npm package.' },
  { name: 'TROVE_FACE_TIMEOUT', default: '20s', description: 'Deadline of one image in the face detector; past it the worker is replaced and the request answers 422 `FACE_DETECTION_FAILED`.' },
  { name: 'TROVE_FACE_RECYCLE_AFTER', default: '500', description: 'Images a face detector worker serves before a fresh one replaces it, which bounds the memory its WebAssembly heap can hold.' },
  { name: 'TROVE_DOCUMENT_CONCURRENCY', default: '1', description: 'Document conversions running at once in each worker process (PDF pages drawn by pdfium in worker threads, Office files through LibreOffice), leased apart from TROVE_JOB_CONCURRENCY; projects take turns in the queue.' },
  { name: 'TROVE_DOCUMENT_TIMEOUT', default: '30s', description: 'Deadline of drawing one PDF page (a preview on the CDN or a page of a conversion); the worker thread is stopped and the request or job fails with the reason.' },
  { name: 'TROVE_DOCUMENT_MAX_PAGES', default: '1000', description: 'Most pages of a PDF Trove draws or converts; a longer one is refused with DOCUMENT_TOO_LARGE.' },
  { name: 'TROVE_DOCUMENT_MAX_PAGE_PIXELS', default: '50000000', description: 'Most pixels of one drawn page (at 150 dpi, read from its MediaBox before drawing); a larger page is refused with DOCUMENT_TOO_LARGE.' },
  { name: 'TROVE_LIBREOFFICE_PATH', default: 'soffice', description: 'The LibreOffice program that turns Office documents (DOCX, XLSX, PPTX, ODT…) into PDF (found on PATH by default). Without it, those conversions answer DOCUMENT_CONVERTER_MISSING naming the package to install; PDFs need nothing.' },
  { name: 'TROVE_LIBREOFFICE_TIMEOUT', default: '2m', description: 'Deadline of one LibreOffice run; its whole process group is killed and the conversion fails with the reason.' },
  { name: 'TROVE_DELIVERY_PREFIX', default: '/', description: 'Path file delivery (`/:uuid/`) is mounted at.' },
  { name: 'TROVE_TRUST_PROXY', default: 'false', description: 'Trust `X-Forwarded-*` headers from a reverse proxy.' },
  { name: 'TROVE_CORS_ORIGINS', default: '*', description: 'Comma-separated origins allowed to upload from browsers, or `*`.' },
  { name: 'TROVE_PUBLIC_KEY', default: '(generated)', description: 'Fixes the default project\'s public key.' },
  { name: 'TROVE_SECRET_KEY', default: '(generated)', description: 'Fixes a secret key of the default project.' },
  { name: 'TROVE_ADMIN_PASSWORD', default: '(off)', description: 'Lets the dashboard sign in to every project with this password (at least 12 characters); without it, each project signs in with its own keys.' },
  { name: 'TROVE_MAX_DIRECT_UPLOAD_SIZE', default: '100MiB', description: 'Largest file accepted by `POST /base/` (larger files use multipart).' },
  { name: 'TROVE_MAX_FILE_SIZE', default: '5GiB', description: 'Largest file accepted at all (multipart, from_url); a project may set a lower limit.' },
  { name: 'TROVE_MAX_FILES_PER_REQUEST', default: '100', description: 'File fields accepted in one `POST /base/`.' },
  { name: 'TROVE_MULTIPART_MIN_FILE_SIZE', default: '10MiB', description: 'Smallest file `POST /multipart/start/` accepts.' },
  { name: 'TROVE_MULTIPART_MIN_PART_SIZE', default: '5MiB', description: 'Smallest `part_size`.' },
  { name: 'TROVE_MULTIPART_MAX_PART_SIZE', default: '512MiB', description: 'Largest `part_size`.' },
  { name: 'TROVE_MULTIPART_EXPIRY', default: '24h', description: 'How long an unfinished multipart upload keeps its parts.' },
  { name: 'TROVE_UNSTORED_FILE_TTL', default: '24h', description: 'How long a file that was not stored lives before it is removed with its bytes.' },
  { name: 'TROVE_SWEEP_INTERVAL', default: '5m', description: 'How often expired files, uploads and tasks are swept.' },
  { name: 'TROVE_MAX_GROUP_FILES', default: '1000', description: 'Most files in one group.' },
  { name: 'TROVE_ORIGINAL_CACHE_SIZE', default: '64MiB', description: 'Memory for the bytes of small, frequently served originals (0 turns it off).' },
  { name: 'TROVE_ORIGINAL_CACHE_MAX_ENTRY', default: '1MiB', description: 'Originals larger than this are always streamed from storage.' },
  { name: 'TROVE_SOURCE_CACHE_SIZE', default: '128MiB', description: 'Memory per process for the originals transformations read (the many sizes of a hot image read it from storage once; 0 turns it off).' },
  { name: 'TROVE_SOURCE_CACHE_MAX_ENTRY', default: '32MiB', description: 'Originals larger than this are read from storage for every transformation.' },
  { name: 'TROVE_TRANSFORM_CONCURRENCY', default: '(number of cores)', description: 'Image transformations running at once per process; the rest wait in per-project queues served in turn. Every process gets the core count because a client\'s keep-alive connections may all land on one process.' },
  { name: 'TROVE_TRANSFORM_QUEUE_PER_PROJECT', default: '64', description: 'Transformations a project may have waiting; more are refused with 503 and Retry-After.' },
  { name: 'TROVE_TRANSFORM_SLOT_HEARTBEAT', default: '2s', description: 'With REDIS_URL: how often each process renews the registration of its transformation slots in the cluster\'s slot ledger. A process silent for three of these drops out, and the slots its projects held come back.' },
  { name: 'TROVE_TRANSFORM_SLOT_RETRY', default: '250ms', description: 'How soon work held back because its project is over its cluster-wide share of slots is offered again when no notice of a freed slot arrives.' },
  { name: 'TROVE_MAX_SOURCE_PIXELS', default: '50000000', description: 'Largest source image (pixels of one frame, read from its header before decoding).' },
  { name: 'TROVE_MAX_SOURCE_SIZE', default: '100MiB', description: 'Largest original Trove loads to transform.' },
  { name: 'TROVE_MAX_OUTPUT_DIMENSION', default: '8192', description: 'Largest side of a transformed image, and of any size a URL asks for (preview, resize, smart_resize, scale_crop; larger is a 400 naming the limit).' },
  { name: 'TROVE_MAX_ANIMATION_PIXELS', default: '200000000', description: 'Animated images: frames × output pixels per frame allowed; beyond it a clear error, never a silent still.' },
  { name: 'TROVE_MAX_SOURCE_PAGES', default: '1000', description: 'Frames or pages a source may have (animated GIF/WebP, multi-page TIFF, HEIF/AVIF sequences), counted from the file\'s structure before libvips reads a header that visits every one; a source with more is not transformed at all (422). Its former name `TROVE_MAX_ANIMATION_FRAMES` is still read.' },
  { name: 'TROVE_MAX_ANIMATION_SOURCE_PIXELS', default: '500000000', description: 'Animations kept animated are decoded whole: frames × source pixels per frame allowed (500000000 is e.g. 240 frames of 1920×1080), checked from the header before decoding.' },
  { name: 'TROVE_TRANSFORM_TIMEOUT', default: '30s', description: 'Wall-clock budget of one transformation, and of one `gif2video` ffmpeg run.' },
  { name: 'TROVE_MAX_OPERATIONS', default: '32', description: 'Operations allowed in one URL.' },
  { name: 'TROVE_MAX_URL_LENGTH', default: '2048', description: 'Longest operations part of a delivery URL.' },
  { name: 'TROVE_DERIVATIVE_CACHE_SIZE', default: '256MiB', description: 'Memory (L1) for transformed images, per process; the blob store is L2.' },
  { name: 'TROVE_DERIVATIVE_CACHE_MAX_ENTRY', default: '8MiB', description: 'Larger derivatives skip the memory cache.' },
  { name: 'TROVE_AVIF_EFFORT', default: '1', description: 'AVIF encoder effort 0–9 for on-the-fly output: about 50 ms for an 800 px image at 1 here, 100 ms at 2, 1.4 s at sharp\'s default 4.' },
  { name: 'TROVE_INTERMEDIATE_CACHE_SIZE', default: '0', description: 'Memory per process for decoded half-size copies of large originals, from which the many widths of a responsive set are resized instead of decoding the original for each (e.g. 128MiB; 0, the default, turns it off: on JPEG photos sharp\'s own scaled decode is as cheap, see bench/responsive.bench.ts).' },
  { name: 'TROVE_INTERMEDIATE_MIN_SOURCE_PIXELS', default: '8000000', description: 'Originals with fewer pixels than this are decoded directly for every width (their decode is cheap).' },
  { name: 'TROVE_FETCH_ALLOW_PRIVATE', default: 'false', description: 'UNSAFE outside development: lets `from_url` downloads, webhook deliveries and project storage endpoints (remote copies) reach loopback and private-network addresses.' },
  { name: 'TROVE_FETCH_TIMEOUT', default: '60s', description: 'Deadline for one `from_url` download, redirects included.' },
  { name: 'TROVE_FETCH_MAX_REDIRECTS', default: '5', description: 'Redirects a `from_url` download may follow.' },
  { name: 'TROVE_FETCH_MAX_SIZE', default: '(TROVE_MAX_FILE_SIZE)', description: 'Largest body a `from_url` download may deliver.' },
  { name: 'TROVE_FETCH_CONCURRENCY', default: '4', description: '`from_url` downloads run at once per process.' },
  { name: 'TROVE_PURGE_SHIELD', default: '(none)', description: 'The Varnish shield\'s base URLs, comma-separated (`http://127.0.0.1:6081,http://10.0.0.2:6081`): deletions send `PURGE /` with `Xkey-Purge: <tags>` to each. Optional `?rate=<n>/<s|min|h>&burst=<n>` on the first URL.' },
  { name: 'TROVE_PURGE_HTTP', default: '(none)', description: 'A purge endpoint of your own, `https://<token>@purge.example.com/hook`: deletions POST `{"tags": [...], "paths": [...]}` with `Authorization: Bearer <token>` when a token is given. Optional `?rate=`.' },
  { name: 'TROVE_PURGE_CLOUDFLARE', default: '(none)', description: 'Purge by Cache-Tag on Cloudflare: `cloudflare://<api_token>@<zone_id>`, at most 100 tags per request. `?rate=` defaults to `5/min` (the Free plan\'s budget; Pro and above allow e.g. `rate=5/s&burst=25`); `?endpoint=` replaces `https://api.cloudflare.com`.' },
  { name: 'TROVE_PURGE_FASTLY', default: '(none)', description: 'Purge by surrogate key on Fastly: `fastly://<api_token>@<service_id>`, at most 256 keys per request; `?soft=1` marks objects stale instead of removing them. Optional `?rate=`, `?endpoint=` (default `https://api.fastly.com`).' },
  { name: 'TROVE_PURGE_CLOUDFRONT', default: '(none)', description: 'CloudFront invalidations (paths `<prefix>/<uuid>*`, at most 15 per request; CloudFront cannot purge by tag): `cloudfront://<access_key_id>:<secret_access_key>@<distribution_id>`. Optional `?region=` (us-east-1), `?rate=`, `?endpoint=`.' },
  { name: 'TROVE_PURGE_TIMEOUT', default: '10s', description: 'Deadline of one call to a purge provider; a call that fails or times out is retried with backoff.' },
  { name: 'TROVE_STORAGE_CREDENTIALS_KEY', default: '(none: storages off)', description: 'Key (32 bytes: 64 hex digits or base64, e.g. `openssl rand -base64 32`) that encrypts the credentials of project storages, the targets of `POST /files/remote_copy/`. Without it, registering a storage is refused. Changing it makes registered storages unusable until registered again.' },
];

/**
 * Reads every setting from the environment once, at start. Collects all problems and throws one
 * ConfigError listing each bad value, so an operator fixes them in one go.
 */
export function loadConfig(env: Env, overrides: { roles?: Role[] } = {}): Config {
  const problems: string[] = [];
  function read<T>(name: string, fallback: T, parse: (raw: string) => T): T {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    try {
      return parse(raw);
    } catch (error) {
      problems.push(`${name}: ${(error as Error).message}`);
      return fallback;
    }
  }
  /** A renamed variable: its former name still works, but not next to the new one (which would win silently). */
  function readRenamed<T>(name: string, formerName: string, fallback: T, parse: (raw: string) => T): T {
    const isSet = (key: string) => (env[key] ?? '').trim() !== '';
    if (!isSet(formerName)) return read(name, fallback, parse);
    if (isSet(name)) {
      problems.push(`${formerName}: the former name of ${name}, which is set too; keep only ${name}`);
      return read(name, fallback, parse);
    }
    return read(formerName, fallback, parse);
  }

  const dataDir = path.resolve(read('DATA_DIR', './data', (v) => v.trim()));
  const database = read<DatabaseConfig>(
    'DATABASE_URL',
    { kind: 'sqlite', path: path.join(dataDir, 'trove.db') },
    (raw) => parseDatabaseUrl(raw, read('DATABASE_POOL_SIZE', 10, (v) => parseInteger(v, 1, 1000))),
  );
  const shardPoolSize = read('TROVE_SHARD_POOL_SIZE', 4, (v) => parseInteger(v, 1, 100));
  const shards: Config['shards'] = {
    configured: read('TROVE_SHARDS', [], (v) => parseShardList(v, shardPoolSize)),
    poolSize: shardPoolSize,
    cacheTtlMs: read('TROVE_SHARD_CACHE_TTL', 2_000, (v) => durationBetween(v, 100, 60_000)),
  };
  for (const shard of shards.configured) {
    if (shard.database.kind !== database.kind) {
      problems.push(`TROVE_SHARDS: shard "${shard.name}" is ${shard.database.kind} but the main database is ${database.kind}; every shard uses the main database's engine`);
    }
  }
  const regionName = (v: string) => {
    if (!SHARD_NAME.test(v.trim())) throw new Error('a region name is 1–32 lowercase letters, digits, - or _, starting with a letter');
    return v.trim();
  };
  const defaultRegion = read('TROVE_DEFAULT_REGION', 'default', regionName);
  const otherRegions = read<Map<string, StorageConfig>>('TROVE_REGIONS', new Map(), (raw) => parseRegionList(raw, defaultRegion, env, problems));
  for (const shard of shards.configured) {
    if (shard.region === defaultRegion) shard.region = null;
    if (shard.region !== null && !otherRegions.has(shard.region)) {
      problems.push(`TROVE_SHARDS: shard "${shard.name}" is in region "${shard.region}", which is neither TROVE_DEFAULT_REGION (${defaultRegion}) nor in TROVE_REGIONS`);
    }
  }
  const region: Config['region'] = {
    name: read('TROVE_REGION', defaultRegion, regionName),
    defaultName: defaultRegion,
    others: otherRegions,
    configCopy: read<DatabaseConfig | null>('TROVE_REGION_CONFIG_URL', null, (v) => parseDatabaseUrl(v, shardPoolSize)),
    syncIntervalMs: read('TROVE_CONFIG_SYNC_INTERVAL', 200, (v) => durationBetween(v, 20, 60_000)),
    syncBatch: read('TROVE_CONFIG_SYNC_BATCH', 500, (v) => parseInteger(v, 10, 10_000)),
    logRetentionMs: read('TROVE_CONFIG_LOG_RETENTION', 7 * 24 * 3_600_000, (v) => durationBetween(v, 60_000, 365 * 24 * 3_600_000)),
  };
  if (region.name !== defaultRegion && !otherRegions.has(region.name)) {
    problems.push(`TROVE_REGION: "${region.name}" is neither TROVE_DEFAULT_REGION (${defaultRegion}) nor in TROVE_REGIONS; a node keeps its derivatives in its region's storage`);
  }
  const storage = read<StorageConfig>('STORAGE_URL', { kind: 'fs', root: path.join(dataDir, 'blobs') }, (raw) =>
    parseStorageUrl(raw, env, problems),
  );
  const roles = overrides.roles ?? read<Role[]>('TROVE_ROLES', [...DEFAULT_ROLES], parseRoles);
  const maxFileSize = read('TROVE_MAX_FILE_SIZE', 5 * 1024 ** 3, parseBytes);

  const config: Config = {
    port: read('PORT', 3000, (v) => parseInteger(v, 0, 65535)),
    host: read('HOST', '0.0.0.0', (v) => v.trim()),
    dataDir,
    roles: new Set(roles),
    workers: read('TROVE_WORKERS', 1, (v) => (v.trim() === 'auto' ? availableParallelism() : parseInteger(v, 1, 256))),
    logLevel: read('LOG_LEVEL', 'info', (v) =>
      parseEnum(v, ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
    ),
    database,
    shards,
    region,
    storage,
    http: {
      publicUrl: read<string | null>('TROVE_PUBLIC_URL', null, (v) =>
        parseUrl(v, ['http:', 'https:']).toString().replace(/\/+$/, ''),
      ),
      uploadPrefix: read('TROVE_UPLOAD_PREFIX', '/upload', parsePathPrefix),
      deliveryPrefix: read('TROVE_DELIVERY_PREFIX', '', parsePathPrefix),
      restPrefix: read('TROVE_REST_PREFIX', '', parsePathPrefix),
      trustProxy: read('TROVE_TRUST_PROXY', false, parseBoolean),
      corsOrigins: read<string[] | '*'>('TROVE_CORS_ORIGINS', '*', parseOrigins),
    },
    dashboard: {
      adminPassword: read<string | null>('TROVE_ADMIN_PASSWORD', null, (v) => {
        if (v.length < 12) throw new Error('must be at least 12 characters');
        return v;
      }),
    },
    bootstrap: {
      publicKey: read<string | null>('TROVE_PUBLIC_KEY', null, (v) => parseKey(v, 'public')),
      secretKey: read<string | null>('TROVE_SECRET_KEY', null, (v) => parseKey(v, 'secret')),
    },
    upload: {
      maxDirectUploadSize: read('TROVE_MAX_DIRECT_UPLOAD_SIZE', 100 * 1024 ** 2, parseBytes),
      maxFileSize,
      maxFilesPerRequest: read('TROVE_MAX_FILES_PER_REQUEST', 100, (v) => parseInteger(v, 1, 10_000)),
      multipartMinFileSize: read('TROVE_MULTIPART_MIN_FILE_SIZE', 10 * 1024 ** 2, parseBytes),
      multipartMinPartSize: read('TROVE_MULTIPART_MIN_PART_SIZE', 5 * 1024 ** 2, parseBytes),
      multipartMaxPartSize: read('TROVE_MULTIPART_MAX_PART_SIZE', 512 * 1024 ** 2, parseBytes),
      multipartExpiryMs: read('TROVE_MULTIPART_EXPIRY', 24 * 3_600_000, parseDuration),
      unstoredFileTtlMs: read('TROVE_UNSTORED_FILE_TTL', 24 * 3_600_000, parseDuration),
      sweepIntervalMs: read('TROVE_SWEEP_INTERVAL', 5 * 60_000, parseDuration),
      maxGroupFiles: read('TROVE_MAX_GROUP_FILES', 1000, (v) => parseInteger(v, 1, 100_000)),
    },
    delivery: {
      originalCacheBytes: read('TROVE_ORIGINAL_CACHE_SIZE', 64 * 1024 ** 2, parseBytes),
      originalCacheMaxEntryBytes: read('TROVE_ORIGINAL_CACHE_MAX_ENTRY', 1024 ** 2, parseBytes),
      sourceCacheBytes: read('TROVE_SOURCE_CACHE_SIZE', 128 * 1024 ** 2, parseBytes),
      sourceCacheMaxEntryBytes: read('TROVE_SOURCE_CACHE_MAX_ENTRY', 32 * 1024 ** 2, parseBytes),
    },
    transform: {
      concurrency: 0,
      maxQueuedPerProject: read('TROVE_TRANSFORM_QUEUE_PER_PROJECT', 64, (v) => parseInteger(v, 1, 100_000)),
      slotHeartbeatMs: read('TROVE_TRANSFORM_SLOT_HEARTBEAT', 2_000, (v) => durationBetween(v, 100, 60_000)),
      slotRetryMs: read('TROVE_TRANSFORM_SLOT_RETRY', 250, (v) => durationBetween(v, 10, 10_000)),
      maxSourcePixels: read('TROVE_MAX_SOURCE_PIXELS', 50_000_000, (v) => parseInteger(v, 1, 1_000_000_000)),
      maxSourceBytes: read('TROVE_MAX_SOURCE_SIZE', 100 * 1024 ** 2, parseBytes),
      maxOutputDimension: read('TROVE_MAX_OUTPUT_DIMENSION', 8192, (v) => parseInteger(v, 1, 65_535)),
      maxAnimationPixels: read('TROVE_MAX_ANIMATION_PIXELS', 200_000_000, (v) => parseInteger(v, 1, 10_000_000_000)),
      // libvips' header read visits every frame or page: seconds for 100 000 GIF/WebP frames, about
      // a second for 50 000 TIFF pages or a million HEIF sequence samples.
      maxSourcePages: readRenamed('TROVE_MAX_SOURCE_PAGES', 'TROVE_MAX_ANIMATION_FRAMES', 1000, (v) => parseInteger(v, 1, 100_000)),
      maxAnimationSourcePixels: read('TROVE_MAX_ANIMATION_SOURCE_PIXELS', 500_000_000, (v) => parseInteger(v, 1, 10_000_000_000)),
      timeoutMs: read('TROVE_TRANSFORM_TIMEOUT', 30_000, parseDuration),
      maxOperations: read('TROVE_MAX_OPERATIONS', 32, (v) => parseInteger(v, 1, 256)),
      maxUrlLength: read('TROVE_MAX_URL_LENGTH', 2048, (v) => parseInteger(v, 64, 16_384)),
      cacheBytes: read('TROVE_DERIVATIVE_CACHE_SIZE', 256 * 1024 ** 2, parseBytes),
      cacheMaxEntryBytes: read('TROVE_DERIVATIVE_CACHE_MAX_ENTRY', 8 * 1024 ** 2, parseBytes),
      avifEffort: read('TROVE_AVIF_EFFORT', 1, (v) => parseInteger(v, 0, 9)),
      intermediateCacheBytes: read('TROVE_INTERMEDIATE_CACHE_SIZE', 0, parseBytes),
      intermediateMinSourcePixels: read('TROVE_INTERMEDIATE_MIN_SOURCE_PIXELS', 8_000_000, (v) => parseInteger(v, 1, 1_000_000_000)),
    },
    transformTier: {
      nodes: read<string[]>('TROVE_TRANSFORM_NODES', [], parseNodeOrigins),
      internalSecret: read<string | null>('TROVE_INTERNAL_SECRET', null, (v) => {
        if (v.length < 32) throw new Error('must be at least 32 characters');
        return v;
      }),
    },
    redisUrl: read<string | null>('REDIS_URL', null, (v) => parseUrl(v, ['redis:', 'rediss:']).toString()),
    rateLimits: {
      'rest-read': read('TROVE_RATE_LIMIT_REST_READ', { perSecond: 50, burst: 150 }, parseRateLimit),
      'rest-write': read('TROVE_RATE_LIMIT_REST_WRITE', { perSecond: 20, burst: 60 }, parseRateLimit),
      upload: read('TROVE_RATE_LIMIT_UPLOAD', { perSecond: 50, burst: 200 }, parseRateLimit),
      'delivery-miss': read('TROVE_RATE_LIMIT_DELIVERY_MISS', { perSecond: 50, burst: 500 }, parseRateLimit),
    },
    jobs: { concurrency: read('TROVE_JOB_CONCURRENCY', 8, (v) => parseInteger(v, 1, 256)) },
    allocator: { mallocArenaMax: env.MALLOC_ARENA_MAX ?? null, ldPreload: env.LD_PRELOAD ?? null },
    webhooks: {
      timeoutMs: read('TROVE_WEBHOOK_TIMEOUT', 10_000, parseDuration),
      retryBaseMs: read('TROVE_WEBHOOK_RETRY_BASE', 10_000, parseDuration),
    },
    addons: {
      clamd: (() => {
        const address = read<ReturnType<typeof parseClamdUrl> | null>('TROVE_CLAMD_URL', null, parseClamdUrl);
        const timeoutMs = read('TROVE_CLAMD_TIMEOUT', 60_000, parseDuration);
        const maxStreamBytes = read('TROVE_CLAMD_MAX_STREAM', 25 * 1024 ** 2, parseBytes);
        return address ? { address, timeoutMs, maxStreamBytes } : null;
      })(),
    },
    video: {
      ffmpegPath: read('TROVE_FFMPEG_PATH', 'ffmpeg', parseProgram),
      ffprobePath: read('TROVE_FFPROBE_PATH', 'ffprobe', parseProgram),
      probeTimeoutMs: read('TROVE_VIDEO_PROBE_TIMEOUT', 10_000, (v) => durationBetween(v, 100, 600_000)),
      transcodeTimeoutMs: read('TROVE_VIDEO_TIMEOUT', 30 * 60_000, (v) => durationBetween(v, 1_000, 24 * 3_600_000)),
      concurrency: read('TROVE_VIDEO_CONCURRENCY', 1, (v) => parseInteger(v, 1, 64)),
      limits: {
        maxFileSize: read('TROVE_VIDEO_MAX_FILE_SIZE', 2 * 1024 ** 3, parseBytes),
        maxDurationMs: read('TROVE_VIDEO_MAX_DURATION', 3_600_000, (v) => durationBetween(v, 1_000, 7 * 24 * 3_600_000)),
        maxDimension: read('TROVE_VIDEO_MAX_DIMENSION', 4096, (v) => parseInteger(v, 16, 16_384)),
        maxFrameRate: read('TROVE_VIDEO_MAX_FRAME_RATE', 120, (v) => parseInteger(v, 1, 1_000)),
        maxStreams: read('TROVE_VIDEO_MAX_STREAMS', 16, (v) => parseInteger(v, 1, 1_000)),
      },
    },
    faces: {
      model: read('TROVE_FACE_MODEL', 'ssd', (v) => parseEnum(v, FACE_MODELS)),
      timeoutMs: read('TROVE_FACE_TIMEOUT', 20_000, (v) => durationBetween(v, 100, 600_000)),
      recycleAfter: read('TROVE_FACE_RECYCLE_AFTER', 500, (v) => parseInteger(v, 1, 1_000_000)),
    },
    documents: {
      concurrency: read('TROVE_DOCUMENT_CONCURRENCY', 1, (v) => parseInteger(v, 1, 64)),
      timeoutMs: read('TROVE_DOCUMENT_TIMEOUT', 30_000, (v) => durationBetween(v, 100, 3_600_000)),
      maxPages: read('TROVE_DOCUMENT_MAX_PAGES', 1000, (v) => parseInteger(v, 1, 100_000)),
      maxPagePixels: read('TROVE_DOCUMENT_MAX_PAGE_PIXELS', 50_000_000, (v) => parseInteger(v, 10_000, 1_000_000_000)),
      libreOfficePath: read('TROVE_LIBREOFFICE_PATH', 'soffice', parseProgram),
      libreOfficeTimeoutMs: read('TROVE_LIBREOFFICE_TIMEOUT', 120_000, (v) => durationBetween(v, 1_000, 3_600_000)),
      // LibreOffice runs with an environment of its own; of Trove's it gets the program search path alone.
      programSearchPath: env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
    },
    storages: {
      credentialsKey: read<Buffer | null>('TROVE_STORAGE_CREDENTIALS_KEY', null, parseKey256),
    },
    purge: {
      shield: read<PurgeConfig['shield']>('TROVE_PURGE_SHIELD', null, parseShieldSetting),
      http: read<PurgeConfig['http']>('TROVE_PURGE_HTTP', null, parseHttpSetting),
      cloudflare: read<PurgeConfig['cloudflare']>('TROVE_PURGE_CLOUDFLARE', null, parseCloudflareSetting),
      fastly: read<PurgeConfig['fastly']>('TROVE_PURGE_FASTLY', null, parseFastlySetting),
      cloudfront: read<PurgeConfig['cloudfront']>('TROVE_PURGE_CLOUDFRONT', null, parseCloudFrontSetting),
      timeoutMs: read('TROVE_PURGE_TIMEOUT', 10_000, parseDuration),
    },
    fetch: {
      allowPrivate: read('TROVE_FETCH_ALLOW_PRIVATE', false, parseBoolean),
      timeoutMs: read('TROVE_FETCH_TIMEOUT', 60_000, parseDuration),
      maxRedirects: read('TROVE_FETCH_MAX_REDIRECTS', 5, (v) => parseInteger(v, 0, 20)),
      maxBytes: read('TROVE_FETCH_MAX_SIZE', maxFileSize, parseBytes),
      concurrency: read('TROVE_FETCH_CONCURRENCY', 4, (v) => parseInteger(v, 1, 256)),
    },
  };

  config.transform.concurrency = read('TROVE_TRANSFORM_CONCURRENCY', Math.max(1, availableParallelism()), (v) =>
    parseInteger(v, 1, 256),
  );
  if (config.upload.multipartMinPartSize > config.upload.multipartMaxPartSize) {
    problems.push('TROVE_MULTIPART_MIN_PART_SIZE: must not exceed TROVE_MULTIPART_MAX_PART_SIZE');
  }
  if (config.upload.maxDirectUploadSize > config.upload.maxFileSize) {
    problems.push('TROVE_MAX_DIRECT_UPLOAD_SIZE: must not exceed TROVE_MAX_FILE_SIZE');
  }
  if (config.transformTier.internalSecret === null) {
    if (config.transformTier.nodes.length > 0) problems.push('TROVE_INTERNAL_SECRET: required with TROVE_TRANSFORM_NODES (jobs sent to transform nodes are signed with it)');
    else if (config.roles.has('transform')) problems.push('TROVE_INTERNAL_SECRET: required with the transform role (it checks the jobs other nodes send)');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** A duration within bounds: a timer of 0 ms would spin. */
function durationBetween(raw: string, minMs: number, maxMs: number): number {
  const ms = parseDuration(raw);
  if (ms < minMs || ms > maxMs) throw new Error(`expected a duration from ${minMs} ms to ${maxMs} ms, got ${ms} ms`);
  return ms;
}


/** TROVE_REGIONS: `name=storage_url` pairs, none of them the default region (whose storage is STORAGE_URL). */
function parseRegionList(raw: string, defaultRegion: string, env: Env, problems: string[]): Map<string, StorageConfig> {
  const regions = new Map<string, StorageConfig>();
  for (const entry of raw.split(/[\s,]+/).filter(Boolean)) {
    const at = entry.indexOf('=');
    if (at <= 0) throw new Error(`"${entry}" is not name=storage_url (e.g. eu=s3://trove-eu or ap=file:///srv/trove/ap)`);
    const name = entry.slice(0, at);
    if (!SHARD_NAME.test(name)) throw new Error(`region name "${name}" must be 1–32 lowercase letters, digits, - or _, starting with a letter`);
    if (name === defaultRegion) throw new Error(`"${name}" is the default region (TROVE_DEFAULT_REGION), whose storage is STORAGE_URL`);
    if (regions.has(name)) throw new Error(`region "${name}" is listed twice`);
    regions.set(name, parseStorageUrl(entry.slice(at + 1), env, problems));
  }
  return regions;
}

function parseStorageUrl(raw: string, env: Env, problems: string[]): StorageConfig {
  const url = parseUrl(raw, ['s3:', 'file:']);
  if (url.protocol === 'file:') {
    const root = decodeURIComponent(url.pathname);
    if (!root || root === '/') throw new Error('file: URL needs a folder, e.g. file:///var/lib/trove/blobs');
    return { kind: 'fs', root: path.resolve(root) };
  }
  const bucket = url.hostname;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new Error(`"${bucket}" is not a valid bucket name (s3://bucket-name/optional/prefix?…)`);
  }
  const params = url.searchParams;
  const known = new Set(['endpoint', 'region', 'forcePathStyle']);
  for (const key of params.keys()) {
    if (!known.has(key)) throw new Error(`unknown STORAGE_URL parameter "${key}" (known: ${[...known].join(', ')})`);
  }
  const endpoint = params.get('endpoint') ?? undefined;
  if (endpoint !== undefined) parseUrl(endpoint, ['http:', 'https:']);
  const accessKeyId = env.AWS_ACCESS_KEY_ID?.trim();
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY?.trim();
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) {
    problems.push('AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY: set both or neither');
  }
  let requestChecksum: 'when_supported' | 'when_required' = 'when_required';
  const checksumRaw = env.TROVE_S3_REQUEST_CHECKSUM;
  if (checksumRaw !== undefined && checksumRaw.trim() !== '') {
    try {
      requestChecksum = parseEnum(checksumRaw, ['when_supported', 'when_required'] as const);
    } catch (error) {
      problems.push(`TROVE_S3_REQUEST_CHECKSUM: ${(error as Error).message}`);
    }
  }
  const sessionToken = env.AWS_SESSION_TOKEN?.trim();
  return {
    kind: 's3',
    bucket,
    prefix: decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, ''),
    endpoint,
    region: params.get('region') ?? env.AWS_REGION?.trim() ?? 'us-east-1',
    forcePathStyle: params.has('forcePathStyle') ? parseBoolean(params.get('forcePathStyle') ?? '') : false,
    credentials:
      accessKeyId && secretAccessKey
        ? { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) }
        : undefined,
    requestChecksum,
  };
}

function parseRoles(raw: string): Role[] {
  const roles = raw
    .split(',')
    .map((r) => r.trim().toLowerCase())
    .filter(Boolean);
  if (roles.length === 0) throw new Error(`expected a comma-separated list of ${ROLES.join(', ')}`);
  for (const role of roles) {
    if (!(ROLES as readonly string[]).includes(role)) throw new Error(`unknown role "${role}" (known: ${ROLES.join(', ')})`);
  }
  return roles as Role[];
}

/** Transform nodes: origins only (a path would be dropped silently), each once. */
function parseNodeOrigins(raw: string): string[] {
  const nodes = raw
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const url = parseUrl(part, ['http:', 'https:']);
      if (url.pathname !== '/' || url.search !== '' || url.username !== '') throw new Error(`"${part}": give an origin such as http://10.0.0.5:3000, without path, query or credentials`);
      return url.origin;
    });
  if (new Set(nodes).size !== nodes.length) throw new Error('a node is listed twice');
  return nodes;
}

function parseOrigins(raw: string): string[] | '*' {
  if (raw.trim() === '*') return '*';
  return raw.split(',').map((origin) => {
    const url = parseUrl(origin.trim(), ['http:', 'https:']);
    return url.origin;
  });
}

function parseKey(raw: string, kind: 'public' | 'secret'): string {
  const v = raw.trim();
  if (!/^[A-Za-z0-9_-]{8,128}$/.test(v)) {
    throw new Error(`a ${kind} key is 8 to 128 characters of letters, digits, "_" or "-"`);
  }
  return v;
}

/** The process environment, read here and nowhere else. */
export function loadConfigFromEnvironment(overrides: { roles?: Role[] } = {}): Config {
  return loadConfig(process.env, overrides);
}

/** A program name (found on PATH) or an absolute path; never arguments. */
function parseProgram(raw: string): string {
  const value = raw.trim();
  if (value === '' || /\s/.test(value)) throw new Error(`expected a program name or an absolute path without spaces, got "${raw}"`);
  if (value.includes('/') && !value.startsWith('/')) throw new Error(`expected an absolute path, got "${raw}"`);
  return value;
}
