/** Renders composite layers (overlays, rounded corners) into inputs for sharp's `composite`. */

import sharp, { type OverlayOptions } from 'sharp';
import type { Rgba } from '../../domain/transform/operations.js';
import type { Deadline } from './deadline.js';
import { engineCall } from './engine-errors.js';
import { isFullRegion, type Size } from './geometry.js';
import type { Layer } from './primitives.js';

interface LayerContext {
  deadline: Deadline;
  maxSourcePixels: number;
}

export async function renderLayers(layers: readonly Layer[], context: LayerContext): Promise<OverlayOptions[]> {
  const rendered: OverlayOptions[] = [];
  // One at a time: layers are small next to the image, and the engine runs several images at once.
  for (const layer of layers) rendered.push(await renderLayer(layer, context));
  return rendered;
}

async function renderLayer(layer: Layer, context: LayerContext): Promise<OverlayOptions> {
  if (layer.kind === 'corners') {
    const svg = Buffer.from(cornersSvg(layer.size, layer.radii, layer.mode, layer.colour));
    // dest-in keeps the image only where the mask is opaque; `over` paints the corner shapes.
    return { input: svg, left: 0, top: 0, blend: layer.mode === 'mask' ? 'dest-in' : 'over' };
  }
  const { data, info } = await engineCall('preparing the overlay', () => {
    let overlay = sharp(layer.source, { failOn: 'error', limitInputPixels: context.maxSourcePixels, autoOrient: true })
      .resize({ width: layer.size.width, height: layer.size.height, fit: 'fill' });
    if (!isFullRegion(layer.visible, layer.size)) overlay = overlay.extract(layer.visible);
    return overlay
      .toColourspace('srgb')
      .ensureAlpha()
      .timeout({ seconds: context.deadline.sharpSeconds() })
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  });
  if (layer.opacity < 1 && info.channels === 4) {
    // Opacity scales the overlay's own alpha, so its transparent parts stay transparent.
    for (let offset = 3; offset < data.length; offset += 4) data[offset] = Math.round(data[offset]! * layer.opacity);
  }
  return {
    input: data,
    raw: { width: info.width, height: info.height, channels: info.channels },
    left: layer.left,
    top: layer.top,
    blend: 'over',
  };
}

/** Rounded rectangle with per-corner radii (top-left, top-right, bottom-right, bottom-left), clockwise. */
function roundedRectPath(size: Size, radii: readonly [number, number, number, number]): string {
  const { width: w, height: h } = size;
  const [tl, tr, br, bl] = radii;
  return [
    `M${tl},0`,
    `H${w - tr}`,
    tr > 0 ? `A${tr},${tr} 0 0 1 ${w},${tr}` : '',
    `V${h - br}`,
    br > 0 ? `A${br},${br} 0 0 1 ${w - br},${h}` : '',
    `H${bl}`,
    bl > 0 ? `A${bl},${bl} 0 0 1 0,${h - bl}` : '',
    `V${tl}`,
    tl > 0 ? `A${tl},${tl} 0 0 1 ${tl},0` : '',
    'Z',
  ].join('');
}

function cornersSvg(size: Size, radii: readonly [number, number, number, number], mode: 'mask' | 'paint', colour: Rgba): string {
  const { width, height } = size;
  const rounded = roundedRectPath(size, radii);
  // mask: the rounded rectangle itself, opaque; paint: the frame outside it (even-odd cut-out).
  const shape =
    mode === 'mask'
      ? `<path d="${rounded}" fill="#fff"/>`
      : `<path d="M0,0H${width}V${height}H0Z${rounded}" fill-rule="evenodd" fill="rgb(${colour.r},${colour.g},${colour.b})" fill-opacity="${(colour.alpha / 255).toFixed(4)}"/>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${shape}</svg>`;
}
