import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { countAnimationFrames } from '../../../src/adapters/inspect/animation-frames.js';
import { gifBomb, webpBomb } from '../../helpers/animation-bombs.js';
import { makeAnimatedGif, makeAnimatedWebp, makeGif, makeJpeg, makePng, makeWebp } from '../../helpers/images.js';

async function sharpPages(bytes: Buffer): Promise<number> {
  return (await sharp(bytes, { limitInputPixels: false }).metadata()).pages ?? 1;
}

describe('countAnimationFrames', () => {
  it('counts the frames libvips counts, for GIF and WebP, animated or still', async () => {
    const files = [
      await makeAnimatedGif({ frames: 3 }),
      await makeAnimatedGif({ frames: 7, width: 30, height: 30 }),
      await makeGif(),
      await makeAnimatedWebp({ frames: 4 }),
      await makeWebp(),
      await makeWebp(20, 20, { alpha: true, lossless: true }),
      gifBomb({ width: 500, height: 400, frames: 25 }),
      await webpBomb({ width: 500, height: 400, frames: 25 }),
    ];
    for (const file of files) expect(countAnimationFrames(file)).toBe(await sharpPages(file));
  });

  it('says nothing about formats that are not animations', async () => {
    expect(countAnimationFrames(await makePng())).toBeNull();
    expect(countAnimationFrames(await makeJpeg({ width: 20, height: 10 }))).toBeNull();
    expect(countAnimationFrames(Buffer.from('GIF'))).toBeNull();
  });

  it('reads cut or damaged files without throwing', () => {
    const gif = gifBomb({ width: 100, height: 100, frames: 10 });
    for (let end = 0; end < gif.length; end += 7) expect(countAnimationFrames(gif.subarray(0, end)) ?? 0).toBeLessThanOrEqual(10);
    const lying = Buffer.from(gif);
    lying[lying.length - 2] = 0xff; // a sub-block length pointing past the end
    expect(countAnimationFrames(lying)).toBe(10);
  });

  it('counts a 100 000-frame file without decoding it, where libvips takes seconds just to read its header', async () => {
    const gif = gifBomb({ width: 2000, height: 2000, frames: 100_000 });
    const webp = await webpBomb({ width: 2000, height: 2000, frames: 100_000 });
    const started = performance.now();
    expect(countAnimationFrames(gif)).toBe(100_000);
    expect(countAnimationFrames(webp)).toBe(100_000);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
