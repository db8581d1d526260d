/**
 * Pixel math over one small decoded image (8-bit RGBA, row by row): area-average downscaling, the
 * colour palette and the difference hash of image analysis. Pure and deterministic: the same pixels
 * give the same answer on every machine.
 */

/** Decoded pixels: `data` holds `width × height × 4` bytes (R, G, B, A; not premultiplied). */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** The size that fits `maxSide` on the longer side, keeping the aspect ratio (never enlarged, at least 1 px). */
export function fitWithin(width: number, height: number, maxSide: number): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * Box (area-average) downscaling to `width × height`: each output pixel is the mean of the source
 * area it covers, fractional edges weighted. Colours are averaged weighted by alpha, so a
 * transparent pixel's colour does not bleed into its neighbours.
 */
export function resizeRgba(source: RgbaImage, width: number, height: number): RgbaImage {
  const out = new Uint8Array(width * height * 4);
  const scaleX = source.width / width;
  const scaleY = source.height / height;
  for (let y = 0; y < height; y++) {
    const top = y * scaleY;
    const bottom = top + scaleY;
    for (let x = 0; x < width; x++) {
      const left = x * scaleX;
      const right = left + scaleX;
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      let area = 0;
      for (let sy = Math.floor(top); sy < Math.ceil(bottom) && sy < source.height; sy++) {
        const wy = Math.min(bottom, sy + 1) - Math.max(top, sy);
        for (let sx = Math.floor(left); sx < Math.ceil(right) && sx < source.width; sx++) {
          const weight = wy * (Math.min(right, sx + 1) - Math.max(left, sx));
          const i = (sy * source.width + sx) * 4;
          const alpha = source.data[i + 3]! * weight;
          r += source.data[i]! * alpha;
          g += source.data[i + 1]! * alpha;
          b += source.data[i + 2]! * alpha;
          a += alpha;
          area += weight;
        }
      }
      const o = (y * width + x) * 4;
      out[o] = a > 0 ? Math.round(r / a) : 0;
      out[o + 1] = a > 0 ? Math.round(g / a) : 0;
      out[o + 2] = a > 0 ? Math.round(b / a) : 0;
      out[o + 3] = area > 0 ? Math.round(a / area) : 0;
    }
  }
  return { width, height, data: out };
}

/** `#rrggbb`, lower case. */
function hexColor(r: number, g: number, b: number): string {
  return `#${[r, g, b].map((v) => Math.max(0, Math.min(255, Math.round(v))).toString(16).padStart(2, '0')).join('')}`;
}

/** Pixels with less opacity than this are left out of the palette: they are not seen. */
const VISIBLE_ALPHA = 128;
const KMEANS_ROUNDS = 6;

type Rgb = [number, number, number];

/**
 * Up to `count` colours that describe the image, most covered first (ties: lower hex first), and
 * their pixel counts. Median cut gives the starting colours (split the box with the widest channel
 * range at its median, so the start depends on nothing random), then a few rounds of k-means move
 * each colour to the mean of the pixels nearest to it. An image with fewer distinct colours gets
 * fewer entries; a fully transparent one gets none.
 */
export function paletteOf(image: RgbaImage, count: number): Array<{ color: string; pixels: number }> {
  const pixels: Rgb[] = [];
  for (let i = 0; i < image.data.length; i += 4) {
    if (image.data[i + 3]! >= VISIBLE_ALPHA) pixels.push([image.data[i]!, image.data[i + 1]!, image.data[i + 2]!]);
  }
  if (pixels.length === 0 || count < 1) return [];
  let centres = medianCut(pixels, count);
  let members: number[] = [];
  for (let round = 0; round < KMEANS_ROUNDS; round++) {
    const sums = centres.map(() => [0, 0, 0, 0]);
    members = centres.map(() => 0);
    for (const pixel of pixels) {
      const nearest = nearestIndex(centres, pixel);
      const sum = sums[nearest]!;
      sum[0]! += pixel[0];
      sum[1]! += pixel[1];
      sum[2]! += pixel[2];
      sum[3]! += 1;
      members[nearest]! += 1;
    }
    centres = centres.map((centre, i) => {
      const sum = sums[i]!;
      return sum[3]! > 0 ? [sum[0]! / sum[3]!, sum[1]! / sum[3]!, sum[2]! / sum[3]!] : centre;
    });
  }
  const merged = new Map<string, number>();
  centres.forEach((centre, i) => {
    if (members[i]! === 0) return;
    const color = hexColor(...centre);
    merged.set(color, (merged.get(color) ?? 0) + members[i]!);
  });
  return [...merged]
    .map(([color, n]) => ({ color, pixels: n }))
    .sort((a, b) => b.pixels - a.pixels || (a.color < b.color ? -1 : a.color > b.color ? 1 : 0));
}

function nearestIndex(centres: readonly Rgb[], pixel: Rgb): number {
  let best = 0;
  let bestDistance = Infinity;
  for (let i = 0; i < centres.length; i++) {
    const c = centres[i]!;
    const d = (c[0] - pixel[0]) ** 2 + (c[1] - pixel[1]) ** 2 + (c[2] - pixel[2]) ** 2;
    if (d < bestDistance) {
      bestDistance = d;
      best = i;
    }
  }
  return best;
}

function medianCut(pixels: Rgb[], count: number): Rgb[] {
  const boxes: Rgb[][] = [pixels];
  while (boxes.length < count) {
    let chosen = -1;
    let chosenChannel = 0;
    let widest = 0;
    boxes.forEach((box, i) => {
      for (let channel = 0; channel < 3; channel++) {
        let min = 255;
        let max = 0;
        for (const pixel of box) {
          min = Math.min(min, pixel[channel]!);
          max = Math.max(max, pixel[channel]!);
        }
        if (max - min > widest) {
          widest = max - min;
          chosen = i;
          chosenChannel = channel;
        }
      }
    });
    // Every box is a single colour: no more distinct colours to find.
    if (chosen === -1) break;
    const box = [...boxes[chosen]!].sort((a, b) => a[chosenChannel]! - b[chosenChannel]! || a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
    // Split between distinct values, so both halves are non-empty and differ on the channel.
    let cut = box.length >> 1;
    const pivot = box[cut]![chosenChannel]!;
    while (cut > 0 && box[cut - 1]![chosenChannel] === pivot) cut--;
    if (cut === 0) {
      cut = box.length >> 1;
      while (cut < box.length && box[cut]![chosenChannel] === pivot) cut++;
    }
    boxes.splice(chosen, 1, box.slice(0, cut), box.slice(cut));
  }
  return boxes.map((box) => {
    const sum = [0, 0, 0];
    for (const pixel of box) {
      sum[0]! += pixel[0];
      sum[1]! += pixel[1];
      sum[2]! += pixel[2];
    }
    return [sum[0]! / box.length, sum[1]! / box.length, sum[2]! / box.length];
  });
}

/**
 * The 64-bit difference hash (dHash) as 16 hex digits: the image in grey (Rec. 601 luma, composed
 * over white so transparent areas read as background), area-averaged to 9 × 8, and one bit per
 * pair of horizontal neighbours, set when the left one is brighter; rows top to bottom, the first
 * bit the most significant. Resizing, recompression and small colour changes keep most bits;
 * different pictures differ in about half of them.
 */
export function differenceHash(image: RgbaImage): string {
  const small = resizeRgba(image, 9, 8);
  const grey: number[] = [];
  for (let i = 0; i < small.data.length; i += 4) {
    const alpha = small.data[i + 3]! / 255;
    const luma = 0.299 * small.data[i]! + 0.587 * small.data[i + 1]! + 0.114 * small.data[i + 2]!;
    grey.push(luma * alpha + 255 * (1 - alpha));
  }
  let hex = '';
  for (let row = 0; row < 8; row++) {
    let nibble = 0;
    for (let column = 0; column < 8; column++) {
      const bit = grey[row * 9 + column]! > grey[row * 9 + column + 1]! ? 1 : 0;
      nibble = (nibble << 1) | bit;
      if (column % 4 === 3) {
        hex += nibble.toString(16);
        nibble = 0;
      }
    }
  }
  return hex;
}
