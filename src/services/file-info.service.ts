import type { StoredFile } from '../domain/file.js';
import { isExpired, isUuid } from '../domain/file.js';
import type { Clock } from '../lib/clock.js';
import { createAppError } from '../errors.js';
import type { ShardResolver } from '../ports/shards.js';
import type { UploadAuthService } from './upload-auth.service.js';

/** `GET /info/`: a file of the caller's project, by uuid. */
export class FileInfoService {
  constructor(
    private readonly auth: UploadAuthService,
    private readonly shards: ShardResolver,
    private readonly clock: Clock,
  ) {}

  async get(publicKey: string | undefined, fileId: string | undefined): Promise<StoredFile> {
    const project = await this.auth.resolveProject(publicKey);
    if (!fileId) throw createAppError('FileIdRequiredError', 400, '`file_id` is required.');
    if (!isUuid(fileId)) throw createAppError('FileIdInvalidError', 400, `file_id "${fileId.slice(0, 80)}" is not a uuid.`);
    const file = await (await this.shards.forProject(project.id)).files.findForProject(project.id, fileId);
    if (!file || isExpired(file, this.clock.now())) throw createAppError('FileNotFoundError', 404, `File ${fileId} not found.`);
    return file;
  }
}
