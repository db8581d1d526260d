/**
 * Every error code Trove answers with, the statuses it comes with and what it tells the client.
 * `AppError` accepts only these codes, each with one of its own statuses, so a new code is added
 * here first; docs/errors.md is generated from this table (`npm run docs:errors`).
 *
 * Upload API codes are Uploadcare's `error_code` names; Trove's own codes are SCREAMING_SNAKE_CASE.
 * Nothing here imports from the rest of Trove.
 */

/** Where a code is answered: an API, the CDN, the dashboard, the command line, or more than one of them. */
export type ErrorApi = 'upload' | 'rest' | 'cdn' | 'dashboard' | 'cli' | 'any';

export interface ErrorCodeEntry {
  readonly statuses: readonly [number, ...number[]];
  readonly api: ErrorApi;
  /** One sentence for whoever receives the code: what went wrong, or what to do about it. */
  readonly meaning: string;
}

export const ERROR_CODES = {
  // Any route: request bodies, routing and the server itself.
  NOT_FOUND: { statuses: [404], api: 'any', meaning: 'Nothing exists at this address, or the file, group, webhook or key asked for is not in this project.' },
  PARAMETER_INVALID: {
    statuses: [400],
    api: 'any',
    meaning: 'A query, path or body parameter is malformed or out of range; the message names it. `POST /files/search/` answers Uploadcare’s field-keyed form instead, `{"query": ["Must be at least 4 characters."]}`.',
  },
  PostRequestParserFailedError: {
    statuses: [400, 415],
    api: 'any',
    meaning: 'The request body could not be read: malformed multipart or JSON, a file where a field belongs, or an unsupported Content-Type (415).',
  },
  RequestParamRequiredError: { statuses: [400], api: 'any', meaning: 'A required parameter is missing or its value is not allowed; the message names it.' },
  RequestSizeLimitExceededError: { statuses: [413], api: 'any', meaning: 'The request body is larger than the server accepts.' },
  RequestFileNumberLimitExceededError: { statuses: [400], api: 'upload', meaning: 'The request carries more files than one upload request may; send them in several requests.' },
  RequestFiledsNumberLimitExceededError: { statuses: [400], api: 'any', meaning: 'The form has more fields or parts than one request may.' },
  FileSizeLimitExceededError: { statuses: [413], api: 'upload', meaning: 'The file is larger than the direct-upload limit or the project’s size limit; use multipart upload or a smaller file.' },
  ClientAborted: { statuses: [400], api: 'any', meaning: 'The client closed the connection before the request body was complete; nothing was saved.' },
  THROTTLED: { statuses: [429], api: 'any', meaning: 'The project made too many requests; retry after the seconds the Retry-After header gives.' },
  ServiceUnavailable: { statuses: [503], api: 'any', meaning: 'A database or storage service Trove depends on is unreachable; nothing was saved, retry shortly.' },
  InternalServerError: { statuses: [500], api: 'any', meaning: 'An unexpected server failure; quote the request id when reporting it.' },

  // Upload API: keys and signatures.
  ProjectPublicKeyRequiredError: { statuses: [400], api: 'upload', meaning: 'The upload did not say which project it is for: send UPLOADCARE_PUB_KEY.' },
  ProjectPublicKeyInvalidError: { statuses: [403], api: 'upload', meaning: 'No project has the public key sent as UPLOADCARE_PUB_KEY.' },
  SignatureRequiredError: { statuses: [403], api: 'upload', meaning: 'The project accepts signed uploads only, or `expire` came without `signature`: send both.' },
  SignatureExpirationRequiredError: { statuses: [403], api: 'upload', meaning: '`signature` came without `expire`: send both.' },
  SignatureExpirationInvalidError: { statuses: [403], api: 'upload', meaning: '`expire` is not a Unix timestamp in seconds.' },
  SignatureExpirationError: { statuses: [403], api: 'upload', meaning: 'The upload signature has expired; sign again with a later `expire`.' },
  SignatureInvalidError: { statuses: [403], api: 'upload', meaning: 'The upload signature does not match HMAC-SHA256 of `expire` under the project’s secret key.' },

  // Upload API: files.
  FileRequiredError: { statuses: [400], api: 'upload', meaning: 'The upload holds no file, or the file is empty.' },
  FileTypeForbiddenError: { statuses: [415], api: 'upload', meaning: 'The project does not accept files of this type.' },
  FileIdRequiredError: { statuses: [400], api: 'upload', meaning: '`file_id` is missing.' },
  FileIdInvalidError: { statuses: [400], api: 'upload', meaning: '`file_id` is not a UUID.' },
  FileNotFoundError: { statuses: [404], api: 'upload', meaning: 'No file with this id exists in the project, or it has expired.' },
  FileMetadataKeyEmptyError: { statuses: [400], api: 'upload', meaning: 'A metadata key is empty.' },
  FileMetadataKeyLengthTooBigError: { statuses: [400], api: 'upload', meaning: 'A metadata key is longer than 64 characters.' },
  FileMetadataKeyForbiddenError: { statuses: [400], api: 'upload', meaning: 'A metadata key has characters other than A–Z, a–z, 0–9, `_`, `-`, `.` and `:`.' },
  FileMetadataKeyDuplicatedError: { statuses: [400], api: 'upload', meaning: 'A metadata key is given more than once.' },
  FileMetadataKeysNumberTooBigError: { statuses: [400], api: 'upload', meaning: 'More than 50 metadata keys were sent.' },
  FileMetadataValueEmptyError: { statuses: [400], api: 'upload', meaning: 'A metadata value is empty.' },
  FileMetadataValueLengthTooBigError: { statuses: [400], api: 'upload', meaning: 'A metadata value is longer than 512 characters.' },
  FileMetadataValueForbiddenError: { statuses: [400], api: 'upload', meaning: 'A metadata value contains a character it may not hold (NUL).' },

  // Upload API: multipart uploads.
  MultipartSizeInvalidError: { statuses: [400], api: 'upload', meaning: '`size` is not a whole number of bytes.' },
  MultipartFileSizeTooSmallError: { statuses: [400], api: 'upload', meaning: 'The file is below the multipart minimum; upload it directly instead.' },
  MultipartFileSizeLimitExceededError: { statuses: [413], api: 'upload', meaning: 'The announced file size is over the project’s or server’s limit.' },
  MultipartPartSizeInvalidError: { statuses: [400], api: 'upload', meaning: '`part_size` is not a whole number, a part index is out of range, or a part has the wrong number of bytes.' },
  MultipartPartSizeTooSmallError: { statuses: [400], api: 'upload', meaning: '`part_size` is below the minimum, or would need too many parts: use a larger `part_size`.' },
  MultipartPartSizeTooBigError: { statuses: [400], api: 'upload', meaning: '`part_size` is above the maximum.' },
  MultipartFileIdRequiredError: { statuses: [400], api: 'upload', meaning: '`uuid` of the multipart upload is missing.' },
  MultipartFileNotFoundError: { statuses: [404], api: 'upload', meaning: 'The multipart upload was completed, aborted or has expired; start a new one.' },
  MultipartFileAlreadyUploadedError: { statuses: [409], api: 'upload', meaning: 'This multipart upload is already being completed.' },
  MultipartFileCompletionFailedError: {
    statuses: [400, 500],
    api: 'upload',
    meaning: 'The upload cannot be completed: parts are missing or hold the wrong total (400), or the assembled file is damaged (500).',
  },
  InternalRequestForbiddenError: { statuses: [403], api: 'upload', meaning: 'The part URL’s token is wrong; use the URLs the multipart start returned.' },

  // Upload API: uploads from a URL.
  SourceURLRequiredError: { statuses: [400], api: 'upload', meaning: '`source_url` is missing.' },
  URLParsingFailedError: { statuses: [400], api: 'upload', meaning: '`source_url` is not a valid URL.' },
  URLSchemeInvalidError: { statuses: [400], api: 'upload', meaning: '`source_url` must use http or https.' },
  TokenRequiredError: { statuses: [400], api: 'upload', meaning: '`token` of the URL upload is missing.' },
  DownloadFileSizeLimitExceededError: { statuses: [413], api: 'upload', meaning: 'The file at the URL is larger than the project’s size limit.' },

  // Upload API: groups.
  FilesRequiredError: { statuses: [400], api: 'upload', meaning: 'The group has no files: send them as files[]=<uuid>.' },
  FilesNumberLimitExceededError: { statuses: [400], api: 'upload', meaning: 'The group has more files than a group may hold.' },
  GroupFilesInvalidError: { statuses: [400], api: 'upload', meaning: 'An entry of files[] is neither a file UUID nor a CDN URL.' },
  GroupFilesNotFoundError: { statuses: [400], api: 'upload', meaning: 'Some files of the group do not exist in this project.' },
  GroupIdRequiredError: { statuses: [400], api: 'upload', meaning: '`group_id` is missing.' },
  GroupNotFoundError: { statuses: [404], api: 'upload', meaning: 'No group with this id exists in the project.' },

  // REST API: authentication.
  ACCEPT_INVALID: { statuses: [406], api: 'rest', meaning: 'The Accept header does not ask for application/vnd.uploadcare-v0.7+json.' },
  AUTH_REQUIRED: { statuses: [401], api: 'rest', meaning: 'The request carries no usable Authorization header.' },
  PUBLIC_KEY_NOT_FOUND: { statuses: [401], api: 'rest', meaning: 'No project has the public key in the Authorization header.' },
  SECRET_KEY_INVALID: { statuses: [401], api: 'rest', meaning: 'The secret key in the Authorization header is wrong.' },
  SECRET_KEY_NOT_FOUND: {
    statuses: [401, 404, 409],
    api: 'any',
    meaning: 'The project has no active secret key to check the request with (401) or to sign uploads with (409), or the key to revoke does not exist (404).',
  },
  DATE_REQUIRED: { statuses: [401], api: 'rest', meaning: 'A signed request needs an X-Uploadcare-Date or Date header.' },
  DATE_INVALID: { statuses: [401], api: 'rest', meaning: 'The date header is not an RFC 2822 date in GMT.' },
  DATE_OUT_OF_WINDOW: { statuses: [401], api: 'rest', meaning: 'The request date is more than 15 minutes from the server’s clock; check the client’s clock.' },
  SIGNATURE_INVALID: { statuses: [401], api: 'rest', meaning: 'The request signature does not match; check the secret key and the signed string.' },

  // REST API: requests.
  JSON_INVALID: { statuses: [400], api: 'rest', meaning: 'The body is not a JSON object.' },
  UUIDS_EXPECTED: { statuses: [400], api: 'rest', meaning: 'The body must be a JSON list of file UUIDs.' },
  UUIDS_EMPTY: { statuses: [400], api: 'rest', meaning: 'The list of UUIDs is empty.' },
  UUIDS_TOO_MANY: { statuses: [400], api: 'rest', meaning: 'The list holds more UUIDs than one request may.' },
  STORE_INVALID: { statuses: [400], api: 'rest', meaning: '`store` must be `true` or `false`.' },
  SOURCE_REQUIRED: { statuses: [400], api: 'rest', meaning: '`source` is missing.' },
  SOURCE_INVALID: { statuses: [400], api: 'rest', meaning: '`source` is neither a file UUID nor a CDN URL with valid operations.' },
  METADATA_INVALID: { statuses: [400], api: 'rest', meaning: '`metadata` must be an object of string values.' },
  METADATA_VALUE_INVALID: { statuses: [400], api: 'rest', meaning: 'The body must be a JSON string: the metadata value.' },
  TAGS_INVALID: { statuses: [400], api: 'rest', meaning: 'A tag breaks a rule (at most 100 Latin letters, digits, `-`, `_` or `.` once lowercased and trimmed), or a file would carry more than 50 tags.' },
  OPERATIONS_INVALID: { statuses: [400], api: 'rest', meaning: '`operations` must be a list of CDN operation paths, each with an image operation.' },
  TARGET_URL_MISSING: { statuses: [400], api: 'rest', meaning: '`target_url` of the webhook is missing.' },
  TARGET_URL_INVALID: { statuses: [400], api: 'rest', meaning: '`target_url` must be an http(s) URL without credentials.' },
  WEBHOOK_EXISTS: { statuses: [400], api: 'rest', meaning: 'A webhook for this event and target_url already exists.' },
  EVENT_INVALID: { statuses: [400], api: 'rest', meaning: '`event` is not one of the webhook events.' },
  SIGNING_SECRET_INVALID: { statuses: [400], api: 'rest', meaning: '`signing_secret` is empty or too long.' },
  VERSION_INVALID: { statuses: [400], api: 'rest', meaning: '`version` must be "0.7".' },
  CONVERSION_UNAVAILABLE: {
    statuses: [503],
    api: 'rest',
    meaning: 'Video conversion is not available on this server, because ffmpeg or ffprobe cannot run here (the message says why). Nothing was queued.',
  },
  DOCUMENT_ENCRYPTED: {
    statuses: [422],
    api: 'any',
    meaning: 'The PDF is protected by a password (or a security scheme pdfium does not open): Trove cannot draw or convert its pages. Upload it without the protection.',
  },
  DOCUMENT_INVALID: {
    statuses: [422],
    api: 'any',
    meaning: 'The document cannot be read: a malformed or truncated PDF, or an Office file LibreOffice could not open; the message says what failed.',
  },
  DOCUMENT_TOO_LARGE: {
    statuses: [422],
    api: 'any',
    meaning: 'The document is beyond a limit of this server: more pages than TROVE_DOCUMENT_MAX_PAGES, a page larger than TROVE_DOCUMENT_MAX_PAGE_PIXELS when drawn, or a page number past its end; the message names the limit.',
  },
  DOCUMENT_TIMEOUT: {
    statuses: [422],
    api: 'any',
    meaning: 'Drawing a page or converting the document took longer than TROVE_DOCUMENT_TIMEOUT (or TROVE_LIBREOFFICE_TIMEOUT) and was stopped.',
  },
  CONVERSION_ENDED: {
    statuses: [409],
    api: 'rest',
    meaning: 'The video conversion has already ended (finished or failed): only a pending or processing one can be cancelled. Its status says how it ended.',
  },
  ADDON_UNAVAILABLE: {
    statuses: [503],
    api: 'rest',
    meaning: 'The add-on is not available on this server: its engine is not configured or not reachable (ClamAV), or Trove ships none for it; the message names the add-on and says why.',
  },
  CONCURRENT_UPDATE: { statuses: [409], api: 'rest', meaning: 'The file’s metadata or tags kept changing under concurrent edits; nothing was changed, send the request again.' },
  IMAGE_ANALYSIS_PENDING: {
    statuses: [409],
    api: 'rest',
    meaning: 'The image named by `similar_to` has no analysis yet: it is computed in the background after the upload (or by `trove analysis backfill`); ask again shortly.',
  },
  LAST_SECRET_KEY: { statuses: [409], api: 'rest', meaning: 'This is the project’s last active secret key: create another before revoking it.' },

  TARGET_REQUIRED: { statuses: [400], api: 'rest', meaning: '`target` of a remote copy is missing: give the name of a storage of the project.' },
  TARGET_INVALID: { statuses: [400], api: 'rest', meaning: '`target` names no storage of this project; list them with GET /project/storages/.' },
  MAKE_PUBLIC_INVALID: { statuses: [400], api: 'rest', meaning: '`make_public` must be `true` or `false`.' },
  PATTERN_INVALID: { statuses: [400], api: 'rest', meaning: '`pattern` uses a variable Uploadcare does not define, or names an object key S3 cannot hold; the message says which.' },
  STORAGE_REFUSED: {
    statuses: [400, 502],
    api: 'rest',
    meaning: 'The target storage refused the copy: credentials, permissions, the bucket or the public-read ACL (400), or it could not be reached (502); the message says which. Nothing was left in the bucket.',
  },

  // Project storages (REST API, dashboard and command line).
  STORAGE_KEY_MISSING: {
    statuses: [501],
    api: 'any',
    meaning: 'The server has no TROVE_STORAGE_CREDENTIALS_KEY, so it cannot keep storage credentials: its operator must set one.',
  },
  STORAGE_EXISTS: { statuses: [409], api: 'any', meaning: 'The project already has a storage of this name; remove it first to register it again.' },
  STORAGE_NOT_FOUND: { statuses: [404], api: 'any', meaning: 'The project has no storage of this name.' },
  STORAGE_CHECK_FAILED: {
    statuses: [400],
    api: 'any',
    meaning: 'Writing a check object to the storage failed: a forbidden or unreachable endpoint, rejected credentials, no such bucket or no write permission; the message says which. Nothing was registered.',
  },
  STORAGE_CREDENTIALS_UNREADABLE: {
    statuses: [409],
    api: 'any',
    meaning: 'The storage’s credentials were sealed under another TROVE_STORAGE_CREDENTIALS_KEY (or altered): remove the storage and register it again.',
  },

  // Projects (command line and REST API).
  PROJECT_NOT_FOUND: { statuses: [404], api: 'any', meaning: 'No project has this public key.' },
  PROJECT_KEY_TAKEN: { statuses: [409], api: 'cli', meaning: 'A project with this public key already exists.' },
  PROJECT_MOVING: { statuses: [503], api: 'any', meaning: 'The project is switching shards and its writes are paused for a few seconds; try again after Retry-After.' },
  SHARD_UNAVAILABLE: { statuses: [503], api: 'any', meaning: 'The shard database holding this project’s files does not answer; the message names the shard and the cause. Other projects are not affected.' },
  SHARD_NOT_FOUND: { statuses: [404], api: 'cli', meaning: 'No shard has this name (`trove shards list` shows them).' },
  SHARD_INVALID: { statuses: [400, 409], api: 'cli', meaning: 'The shard cannot be added: its name is taken or malformed, its URL uses another engine than the main database, or it cannot be reached.' },
  MOVE_REFUSED: { statuses: [409], api: 'cli', meaning: 'The project cannot be moved as asked: it is on that shard already, another move of it is under way to a different shard, or there is no move to resume or roll back.' },
  REGION_NOT_FOUND: { statuses: [404], api: 'cli', meaning: 'No region has this name, or it has no shard: regions are TROVE_DEFAULT_REGION and those of TROVE_REGIONS, and a shard joins one with `name@region=url` in TROVE_SHARDS or `trove shards add --region`.' },
  REGION_NOT_CONFIGURED: { statuses: [503], api: 'any', meaning: 'The project’s files are in a region this node does not know: every node must list every region in TROVE_REGIONS.' },
  MOVE_REGIONS_BEHIND: { statuses: [409], api: 'cli', meaning: 'The project switched shards, but a region’s copy of the configuration has not applied the switch yet: the old copy of its rows is kept until it has; run the move again to finish.' },
  MOVE_BLOB_MISSING: { statuses: [409], api: 'cli', meaning: 'A file’s original is missing or of another size in the region it is moving to after the copy; nothing was switched, and running the move again copies it afresh.' },
  MOVE_VERIFY_FAILED: { statuses: [409], api: 'cli', meaning: 'After copying, the project’s rows on the two shards differ; nothing was switched, and running the move again copies afresh.' },

  // Dashboard.
  SESSION_REQUIRED: { statuses: [401], api: 'dashboard', meaning: 'Not signed in, or the session has ended: sign in again.' },
  SESSION_INVALID: { statuses: [401], api: 'dashboard', meaning: 'The session’s project is gone: sign in again.' },
  CSRF_TOKEN_INVALID: { statuses: [403], api: 'dashboard', meaning: 'A request signed in by the dashboard cookie lacks the session’s X-CSRF-Token header.' },
  SIGN_IN_FAILED: { statuses: [401], api: 'dashboard', meaning: 'The keys or the admin password are wrong.' },
  SIGN_IN_THROTTLED: { statuses: [429], api: 'dashboard', meaning: 'Too many sign-in attempts; wait the seconds Retry-After gives.' },
  ADMIN_SIGN_IN_OFF: { statuses: [401], api: 'dashboard', meaning: 'Admin sign-in is off: set TROVE_ADMIN_PASSWORD to turn it on.' },
  FORBIDDEN: { statuses: [403], api: 'dashboard', meaning: 'Only an admin session may do this.' },

  // CDN: delivery and transformations.
  FILE_NOT_FOUND: { statuses: [404], api: 'cdn', meaning: 'The file, or the group member asked for, does not exist.' },
  FILE_SCAN_PENDING: {
    statuses: [423],
    api: 'any',
    meaning: 'The project scans uploads for viruses and this file has not been found clean yet: its scan is still running (retry shortly) or could not be completed (run uc_clamav_virus_scan on it again).',
  },
  FILE_INFECTED: { statuses: [403], api: 'any', meaning: 'The virus scanner found this file infected: it is never delivered or copied.' },
  FILE_CORRUPT: { statuses: [500], api: 'cdn', meaning: 'The stored bytes of the file do not match its record; an operator must look at the storage.' },
  RANGE_NOT_SATISFIABLE: { statuses: [416], api: 'cdn', meaning: 'The Range header asks for bytes outside the file.' },
  URL_TOO_LONG: { statuses: [400], api: 'cdn', meaning: 'The operations part of the URL is longer than allowed.' },
  TOO_MANY_OPERATIONS: { statuses: [400], api: 'cdn', meaning: 'The URL has more operations than allowed.' },
  UNKNOWN_OPERATION: { statuses: [400], api: 'cdn', meaning: 'The URL names an operation Trove does not know; the message lists the supported ones.' },
  INVALID_OPERATION: { statuses: [400], api: 'cdn', meaning: 'An operation’s parameters are wrong, it is not supported, or it cannot apply to this image.' },
  NOT_AN_IMAGE: { statuses: [400], api: 'cdn', meaning: 'Image operations were asked of a file that is not an image.' },
  FACE_DETECTION_FAILED: {
    statuses: [422],
    api: 'cdn',
    meaning: 'Face detection could not analyse this image (its pixels could not be decoded, it is over the source limits, or detection passed TROVE_FACE_TIMEOUT); the message says why. The outcome is kept: asking again gives the same answer.',
  },
  FACE_DETECTION_UNAVAILABLE: {
    statuses: [503],
    api: 'cdn',
    meaning: 'Face detection is off on this server (TROVE_FACE_MODEL=off) or its detector could not start; `/ready` says which. Operations that need faces cannot run.',
  },
  NOT_A_GIF: { statuses: [400], api: 'cdn', meaning: '`gif2video` was asked of a file whose bytes are not a GIF.' },
  NOT_ANIMATED: { statuses: [400], api: 'cdn', meaning: '`gif2video` was asked of a GIF with a single frame: only animated GIFs become videos.' },
  SOURCE_TOO_LARGE: { statuses: [422], api: 'cdn', meaning: 'The original or an overlay has more bytes, pixels or pages than Trove transforms (for `gif2video`, also a longer duration or side than video allows, or a video over 64 MiB).' },
  ANIMATION_TOO_LARGE: { statuses: [422], api: 'cdn', meaning: 'Kept animated, the result would have more frames × pixels than Trove produces; ask for a smaller size or a still image.' },
  OUTPUT_TOO_LARGE: { statuses: [400], api: 'cdn', meaning: 'The result, or an image on the way to it, would be larger than allowed; ask for smaller dimensions.' },
  UNSUPPORTED_SOURCE: { statuses: [400], api: 'cdn', meaning: 'The image format cannot be transformed.' },
  CORRUPT_SOURCE: { statuses: [422], api: 'cdn', meaning: 'The image could not be decoded: its bytes are damaged or not what they claim.' },
  TIMEOUT: { statuses: [503], api: 'cdn', meaning: 'The transformation took too long; retry after Retry-After, or ask for less work.' },
  NOT_A_VIDEO: { statuses: [400], api: 'cdn', meaning: '`hls/` was asked of a file that is not a video Trove could read.' },
  STREAM_FAILED: { statuses: [422], api: 'cdn', meaning: 'The HLS stream of this video cannot be made: the video is refused (a limit, no video stream, bytes ffprobe cannot read), or every attempt failed. The message says why; asking again does not retry.' },
  STREAM_RETRY_PENDING: { statuses: [503], api: 'cdn', meaning: 'The last attempt to make the HLS stream failed for a reason that may pass (ffmpeg crashed or timed out, a storage error); the first request after Retry-After starts the next attempt.' },
  VIDEO_UNAVAILABLE: { statuses: [503], api: 'cdn', meaning: '`gif2video` or `hls/` cannot run because ffmpeg or ffprobe cannot run on this server; the message says why. Cached videos are still served.' },
  TRANSFORM_QUEUE_FULL: { statuses: [503], api: 'cdn', meaning: 'Too many transformations are waiting for this project; retry shortly.' },
  TRANSFORM_NODES_UNAVAILABLE: {
    statuses: [503],
    api: 'cdn',
    meaning: 'No transform node could take the transformation (all unreachable or failing); retry after the seconds Retry-After gives. Cached derivatives are still served.',
  },

  // Between Trove nodes: the internal transformation endpoint of the transform role.
  INTERNAL_SIGNATURE_INVALID: {
    statuses: [401],
    api: 'any',
    meaning: 'An internal request is unsigned, its signature does not match, or its timestamp is outside the window: the nodes must share TROVE_INTERNAL_SECRET and keep their clocks within a minute.',
  },
  TRANSFORM_JOB_INVALID: { statuses: [400, 413], api: 'any', meaning: 'A transformation job sent to a transform node is not valid JSON of the job’s shape (400), or is larger than a job can be (413).' },
} as const satisfies Record<string, ErrorCodeEntry>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The statuses `C` may be answered with. */
export type StatusOf<C extends ErrorCode> = (typeof ERROR_CODES)[C]['statuses'][number];
