import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * Blocks the files directly in `dir` occupy on disk (0 for a missing folder): a sparse file costs
 * only what was written into it, so this tells bytes kept from bytes merely declared.
 */
export async function allocatedBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    // A file removed between the listing and the stat holds nothing any more.
    total += (await stat(path.join(dir, name)).catch(() => ({ blocks: 0 }))).blocks * 512;
  }
  return total;
}
