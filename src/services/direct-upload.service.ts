import type { Readable } from 'node:stream';
import { describeBytes } from '../domain/filename.js';
import type { StoredFile } from '../domain/file.js';
import type { Fields } from '../domain/form-fields.js';
import type { Project } from '../domain/project.js';
import { DIRECT_UPLOAD, parseUploadOptions, readUploadCredentials, shouldStore } from '../domain/upload-options.js';
import { createAppError } from '../errors.js';
import type { FileIngestService, ReceivedBlob } from './file-ingest.service.js';
import type { UploadAuthService } from './upload-auth.service.js';

/** One part of a multipart/form-data body, as the HTTP layer hands it over. */
export type FormPart =
  | { kind: 'field'; name: string; value: string }
  | { kind: 'file'; fieldName: string; filename: string | undefined; stream: Readable };

interface DirectUploadSettings {
  maxDirectUploadSize: number;
  maxFilesPerRequest: number;
}

interface ReceivedField {
  fieldName: string;
  filename: string | undefined;
  blob: ReceivedBlob;
}

/** `POST /base/`: one or more file fields in one form; every file is stored, or none is. */
export class DirectUploadService {
  constructor(
    private readonly auth: UploadAuthService,
    private readonly ingest: FileIngestService,
    private readonly settings: DirectUploadSettings,
  ) {}

  async upload(parts: AsyncIterable<FormPart>, query: Fields): Promise<Record<string, string>> {
    const fields: Array<[string, string]> = [];
    const received: ReceivedField[] = [];
    let earlyProject: Project | null = null;
    try {
      for await (const part of parts) {
        if (part.kind === 'field') {
          fields.push([part.name, part.value]);
          continue;
        }
        if (received.length >= this.settings.maxFilesPerRequest) {
          part.stream.destroy();
          throw createAppError(
            'RequestFileNumberLimitExceededError',
            400,
            `At most ${this.settings.maxFilesPerRequest} files may be sent in one request.`,
          );
        }
        if (received.some((r) => r.fieldName === part.fieldName)) {
          part.stream.destroy();
          throw createAppError(
            'RequestParamRequiredError',
            400,
            `File field "${part.fieldName}" appears more than once; give every file its own field name.`,
          );
        }
        // When the key came before the file (or in the query), refuse an unknown key or a file over
        // the project's own limit before reading its bytes. The signature may still follow the
        // file, so it is checked once the whole form is read.
        if (!earlyProject) {
          const { publicKey } = readUploadCredentials(fields, DIRECT_UPLOAD, query);
          if (publicKey) earlyProject = await this.auth.resolveProject(publicKey);
        }
        const limit = earlyProject
          ? Math.min(this.settings.maxDirectUploadSize, this.ingest.maxFileSizeFor(earlyProject))
          : this.settings.maxDirectUploadSize;
        const blob = await this.ingest.receive(part.stream, limit, () =>
          createAppError(
            'FileSizeLimitExceededError',
            413,
            `${part.filename ? `"${part.filename.slice(0, 200)}"` : `File "${part.fieldName}"`} is larger than ${describeBytes(limit)}, ${
              limit === this.settings.maxDirectUploadSize ? 'the limit for direct uploads (use multipart upload for larger files)' : "this project's file size limit"
            }.`,
          ),
          earlyProject?.id,
        );
        received.push({ fieldName: part.fieldName, filename: part.filename, blob });
      }

      const project = await this.auth.authenticate(readUploadCredentials(fields, DIRECT_UPLOAD, query));
      if (received.length === 0) {
        throw createAppError('FileRequiredError', 400, 'The request has no file: send at least one file field.');
      }
      const options = parseUploadOptions(fields, DIRECT_UPLOAD);

      const prepared: StoredFile[] = [];
      for (const item of received) {
        prepared.push(
          await this.ingest.prepare(project, item.blob, {
            originalFilename: item.filename,
            store: shouldStore(options.store, project.autoStore),
            metadata: options.metadata,
            tags: options.tags,
            source: options.source,
          }),
        );
      }
      await this.ingest.commit(prepared);
      const result: Record<string, string> = {};
      for (const item of received) result[item.fieldName] = item.blob.uuid;
      return result;
    } catch (error) {
      await this.ingest.discard(received.map((r) => r.blob));
      throw error;
    }
  }
}
