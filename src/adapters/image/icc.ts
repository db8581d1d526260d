/**
 * Just enough ICC parsing to tell an sRGB profile from others: an image already in sRGB can keep its
 * own profile untouched, while any other profile means converting pixels (and embedding sRGB).
 */

const HEADER_BYTES = 128;

/** The profile describes an RGB space whose description names sRGB (e.g. "sRGB IEC61966-2.1"). */
export function isSrgbProfile(profile: Buffer | undefined): boolean {
  if (profile === undefined || profile.length < HEADER_BYTES + 4) return false;
  if (profile.toString('latin1', 16, 20) !== 'RGB ') return false;
  const description = profileDescription(profile);
  return description !== null && /\bsRGB\b/i.test(description);
}

function profileDescription(profile: Buffer): string | null {
  const tagCount = profile.readUInt32BE(HEADER_BYTES);
  for (let index = 0; index < tagCount; index += 1) {
    const entry = HEADER_BYTES + 4 + index * 12;
    if (entry + 12 > profile.length) return null;
    if (profile.toString('latin1', entry, entry + 4) !== 'desc') continue;
    const offset = profile.readUInt32BE(entry + 4);
    const size = profile.readUInt32BE(entry + 8);
    if (offset + size > profile.length || size < 12) return null;
    return readText(profile.subarray(offset, offset + size));
  }
  return null;
}

/** ICC v2 `desc` (ASCII) or v4 `mluc` (UTF-16BE, first record) text. */
function readText(tag: Buffer): string | null {
  const type = tag.toString('latin1', 0, 4);
  if (type === 'desc') {
    const length = tag.readUInt32BE(8);
    return 12 + length <= tag.length ? tag.toString('latin1', 12, 12 + length).replace(/\0+$/, '') : null;
  }
  if (type === 'mluc' && tag.length >= 28) {
    const length = tag.readUInt32BE(20);
    const offset = tag.readUInt32BE(24);
    if (offset + length > tag.length) return null;
    const utf16 = Buffer.from(tag.subarray(offset, offset + length));
    return utf16.swap16().toString('utf16le');
  }
  return null;
}
