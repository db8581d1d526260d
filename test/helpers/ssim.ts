/**
 * Structural similarity (Wang et al. 2004) of two encoded images, on decoded 8-bit luma (BT.601
 * weights), alpha composited over white first so transparent pixels compare as what a page shows.
 * 8×8 windows with a stride of 4, the standard constants C1 = (0.01·255)², C2 = (0.03·255)²; the
 * result is the mean over all windows (1 = identical).
 */

import sharp from 'sharp';

const C1 = (0.01 * 255) ** 2;
const C2 = (0.03 * 255) ** 2;
const WINDOW = 8;
const STRIDE = 4;

async function luma(image: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(image)
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const grey = Buffer.alloc(info.width * info.height);
  for (let pixel = 0; pixel < grey.length; pixel += 1) {
    const offset = pixel * info.channels;
    grey[pixel] = Math.round(0.299 * data[offset]! + 0.587 * data[offset + 1]! + 0.114 * data[offset + 2]!);
  }
  return { data: grey, width: info.width, height: info.height };
}

/** SSIM of two images of the same size; throws when the sizes differ (that is a failure too). */
export async function ssim(a: Buffer, b: Buffer): Promise<number> {
  const [x, y] = await Promise.all([luma(a), luma(b)]);
  if (x.width !== y.width || x.height !== y.height) {
    throw new Error(`sizes differ: ${x.width}×${x.height} and ${y.width}×${y.height}`);
  }
  let total = 0;
  let windows = 0;
  const n = WINDOW * WINDOW;
  for (let top = 0; top + WINDOW <= x.height; top += STRIDE) {
    for (let left = 0; left + WINDOW <= x.width; left += STRIDE) {
      let sumX = 0;
      let sumY = 0;
      let sumXX = 0;
      let sumYY = 0;
      let sumXY = 0;
      for (let row = top; row < top + WINDOW; row += 1) {
        const start = row * x.width + left;
        for (let index = start; index < start + WINDOW; index += 1) {
          const p = x.data[index]!;
          const q = y.data[index]!;
          sumX += p;
          sumY += q;
          sumXX += p * p;
          sumYY += q * q;
          sumXY += p * q;
        }
      }
      const meanX = sumX / n;
      const meanY = sumY / n;
      const varX = sumXX / n - meanX * meanX;
      const varY = sumYY / n - meanY * meanY;
      const covariance = sumXY / n - meanX * meanY;
      total += ((2 * meanX * meanY + C1) * (2 * covariance + C2)) / ((meanX * meanX + meanY * meanY + C1) * (varX + varY + C2));
      windows += 1;
    }
  }
  return windows === 0 ? 1 : total / windows;
}
