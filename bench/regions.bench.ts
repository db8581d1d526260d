/**
 * Moving a project between regions: how fast its originals are copied to the new region's storage,
 * and checked there, against copying the same folder directly (`fs.cp`, the ceiling).
 *
 * Two regions on this machine, each a folder (`west`, where the project lives, and the default
 * region), one SQLite main database and a west shard `w`. BENCH_FILES originals of BENCH_FILE_KIB KiB
 * (random bytes) are written through the regional blob store and recorded on `w`, as uploads would be.
 * Each round then measures, in alternating order (so a busy machine slows both alike):
 *   trove   ProjectBlobCopy.copy: the move's copy of every original the shard's rows name (pages of
 *           500 rows, 32 copies at once, each checked absent first; each written as every original
 *           is, fsynced with its folder before it counts, since the old region's copy is deleted
 *           after the switch), then verify (each original's size in the new region), as
 *           `trove projects move --region` runs them;
 *   direct  fs.cp of the west folder's originals into the default folder (no fsync);
 *   durable the same copy file by file, 32 at once, each file and its folder fsynced (as durable as
 *           Trove's copy: the fair ceiling).
 * The copies are deleted after each measurement. The table gives medians, MB/s and the ratios
 * ceiling time / Trove time (the median of the rounds' ratios: 1 is as fast as the ceiling).
 *
 *   npm run bench:regions                    (about a minute)
 *   BENCH_ROUNDS=5 BENCH_FILES=2000 BENCH_FILE_KIB=64
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { copyFile, cp, mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { FsBlobStore } from '../src/adapters/blob/fs.blob-store.js';
import { RegionalBlobStore } from '../src/adapters/blob/regional.blob-store.js';
import { KyselyMetadataStore } from '../src/adapters/db/kysely-metadata-store.js';
import { KyselyProjectRowCopier } from '../src/adapters/db/project-rows.js';
import { KyselyShardSet } from '../src/adapters/db/shard-set.js';
import { originalBlobKey, regionBlobRoot } from '../src/domain/blob-layout.js';
import type { StoredFile } from '../src/domain/file.js';
import { ProjectBlobCopy } from '../src/services/project-blob-copy.js';
import { storedFile } from '../test/helpers/stored-file.js';
import { percentile } from './lib/trove-process.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const FILES = Number(process.env.BENCH_FILES ?? 2000);
const FILE_BYTES = Number(process.env.BENCH_FILE_KIB ?? 64) * 1024;

const median = (values: number[]) => percentile([...values].sort((a, b) => a - b), 50);

/** Flushes a file or a folder to the disk. */
async function fsync(target: string): Promise<void> {
  const handle = await open(target, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'trove-bench-regions-'));
  const folders = { default: path.join(dir, 'default'), west: path.join(dir, 'west') };
  const blobs = new RegionalBlobStore(
    new Map([
      ['default', new FsBlobStore({ root: folders.default })],
      ['west', new FsBlobStore({ root: folders.west })],
    ]),
    'default',
    'default',
  );
  const main = new KyselyMetadataStore({ kind: 'sqlite', path: path.join(dir, 'main.db') });
  await main.migrate();
  const shards = await KyselyShardSet.open(main, { configured: [{ name: 'w', database: { kind: 'sqlite', path: path.join(dir, 'w.db') }, region: 'west' }], poolSize: 1, cacheTtlMs: 60_000 });
  try {
    const project = await main.projects.create({ id: randomUUID(), name: 'Moving', publicKey: 'pk_bench_regions', shard: 'w', createdAt: new Date().toISOString() });
    await shards.anchor('w', project);
    const shard = await shards.forProject(project.id);
    const west = regionBlobRoot('west');
    const now = new Date().toISOString();
    const files: StoredFile[] = [];
    for (let i = 0; i < FILES; i++) {
      const uuid = randomUUID();
      const blobKey = originalBlobKey(uuid, west);
      await blobs.put(blobKey, Readable.from([randomBytes(FILE_BYTES)]), { size: FILE_BYTES });
      files.push(storedFile({ projectId: project.id, uuid, size: FILE_BYTES, mimeType: 'application/octet-stream', originalFilename: `f${i}.bin`, filename: `f${i}.bin`, blobKey, datetimeStored: now }));
    }
    for (let i = 0; i < files.length; i += 500) await shard.files.insertMany(files.slice(i, i + 500));
    const copier = new ProjectBlobCopy(blobs, new KyselyProjectRowCopier(shards));
    const from = { shard: 'w', root: west };
    const to = { shard: 'w', root: regionBlobRoot(null) };
    const megabytes = (FILES * FILE_BYTES) / 1e6;
    console.log(`${FILES} originals of ${FILE_BYTES / 1024} KiB (${megabytes.toFixed(0)} MB) per copy, ${ROUNDS} rounds`);

    const times = { trove: [] as number[], verify: [] as number[], direct: [] as number[], durable: [] as number[] };
    const ratios: number[] = [];
    const durableRatios: number[] = [];
    const relative = files.map((file) => path.join('originals', file.uuid.slice(0, 2), file.uuid));
    const runTrove = async () => {
      const started = performance.now();
      const report = await copier.copy(project.id, from, to);
      const copied = performance.now();
      const verified = await copier.verify(project.id, from, to);
      if (report.copied !== FILES || verified !== FILES) throw new Error(`copied ${report.copied}, verified ${verified} of ${FILES}`);
      times.verify.push(performance.now() - copied);
      await rm(path.join(folders.default, 'originals'), { recursive: true, force: true });
      return copied - started;
    };
    const runDirect = async () => {
      const started = performance.now();
      await cp(path.join(folders.west, 'originals'), path.join(folders.default, 'originals'), { recursive: true });
      const took = performance.now() - started;
      await rm(path.join(folders.default, 'originals'), { recursive: true, force: true });
      return took;
    };
    const runDurable = async () => {
      const started = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (next < relative.length) {
            const file = relative[next++]!;
            const target = path.join(folders.default, file);
            await mkdir(path.dirname(target), { recursive: true });
            await copyFile(path.join(folders.west, file), target);
            await fsync(target);
            await fsync(path.dirname(target));
          }
        }),
      );
      const took = performance.now() - started;
      await rm(path.join(folders.default, 'originals'), { recursive: true, force: true });
      return took;
    };
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (['trove', 'direct', 'durable'] as const) : (['durable', 'direct', 'trove'] as const);
      const took: Record<'trove' | 'direct' | 'durable', number> = { trove: 0, direct: 0, durable: 0 };
      for (const which of order) took[which] = await (which === 'trove' ? runTrove() : which === 'direct' ? runDirect() : runDurable());
      times.trove.push(took.trove);
      times.direct.push(took.direct);
      times.durable.push(took.durable);
      ratios.push(took.direct / took.trove);
      durableRatios.push(took.durable / took.trove);
      console.log(
        `round ${round + 1}: trove ${took.trove.toFixed(0)} ms (+ verify ${times.verify.at(-1)!.toFixed(0)} ms), direct ${took.direct.toFixed(0)} ms, durable ${took.durable.toFixed(0)} ms`,
      );
    }
    const rate = (ms: number) => `${(megabytes / (ms / 1000)).toFixed(0)} MB/s, ${(FILES / (ms / 1000)).toFixed(0)} files/s`;
    console.log('');
    console.log('| copy | median time | throughput |');
    console.log('| --- | ---: | ---: |');
    console.log(`| Trove (ProjectBlobCopy.copy) | ${median(times.trove).toFixed(0)} ms | ${rate(median(times.trove))} |`);
    console.log(`| Trove verify (size of each, in the new region) | ${median(times.verify).toFixed(0)} ms | ${(FILES / (median(times.verify) / 1000)).toFixed(0)} files/s |`);
    console.log(`| direct (fs.cp of the folder, no fsync) | ${median(times.direct).toFixed(0)} ms | ${rate(median(times.direct))} |`);
    console.log(`| durable (copyFile + fsync of each file and folder, 32 at once) | ${median(times.durable).toFixed(0)} ms | ${rate(median(times.durable))} |`);
    const span = (values: number[]) => `${median(values).toFixed(2)} (rounds ${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})`;
    console.log(`\ndirect / Trove: ${span(ratios)}; durable / Trove: ${span(durableRatios)} (1: as fast as the ceiling)`);
  } finally {
    await shards.close();
    await main.close();
    await blobs.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
