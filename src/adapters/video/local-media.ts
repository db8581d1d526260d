import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '../../ports/blob-store.js';
import { VideoProbeError } from '../../ports/video-engine.js';

/** A local path to a blob's bytes for as long as the caller holds it. */
export interface LocalMedia {
  path: string;
  release(): Promise<void>;
}

/** Gives ffmpeg a local file: programs that read by path never see a URL. */
export interface LocalMediaSource {
  open(blobKey: string): Promise<LocalMedia>;
}

/** The filesystem store's own file, read in place. */
export class InPlaceMedia implements LocalMediaSource {
  constructor(private readonly pathOf: (blobKey: string) => string) {}

  async open(blobKey: string): Promise<LocalMedia> {
    return { path: this.pathOf(blobKey), release: async () => undefined };
  }
}

/** In place when the key's region keeps it on this machine's disk, else a copy. */
export class InPlaceWhenLocalMedia implements LocalMediaSource {
  constructor(
    private readonly pathOf: (blobKey: string) => string | null,
    private readonly copied: LocalMediaSource,
  ) {}

  open(blobKey: string): Promise<LocalMedia> {
    const local = this.pathOf(blobKey);
    return local === null ? this.copied.open(blobKey) : Promise.resolve({ path: local, release: async () => undefined });
  }
}

/** A copy in a scratch folder (an S3 store), removed on release. */
export class CopiedMedia implements LocalMediaSource {
  constructor(
    private readonly blobs: BlobStore,
    private readonly scratchDir: string,
  ) {}

  async open(blobKey: string): Promise<LocalMedia> {
    const stream = await this.blobs.get(blobKey);
    if (!stream) throw new VideoProbeError('The file’s bytes are missing from storage.');
    await mkdir(this.scratchDir, { recursive: true });
    const target = path.join(this.scratchDir, `in-${randomUUID()}`);
    const release = () => rm(target, { force: true });
    try {
      await pipeline(stream, createWriteStream(target, { flags: 'wx' }));
    } catch (error) {
      await release();
      throw error;
    }
    return { path: target, release };
  }
}
