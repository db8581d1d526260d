/** Facts Uploadcare reports from EXIF: where and when a photo was taken. */

import exifReader from 'exif-reader';
import type { GeoLocation } from '../../domain/content-info.js';

interface ExifFacts {
  geoLocation: GeoLocation | null;
  /** `YYYY-MM-DDTHH:MM:SS`, the camera's local time (EXIF carries no zone). */
  datetimeOriginal: string | null;
}

const NO_FACTS: ExifFacts = { geoLocation: null, datetimeOriginal: null };

/** Reads GPS position and DateTimeOriginal from a raw EXIF block (as sharp returns it). */
export function readExifFacts(exifBlock: Buffer | undefined): ExifFacts {
  if (exifBlock === undefined || exifBlock.length === 0) return NO_FACTS;
  let exif: exifReader.Exif;
  try {
    exif = exifReader(exifBlock);
  } catch {
    // Truncated or malformed EXIF is common in the wild and must not fail an upload.
    return NO_FACTS;
  }
  return {
    geoLocation: geoLocationOf(exif.GPSInfo),
    datetimeOriginal: isoDateTime(exif.Photo?.DateTimeOriginal),
  };
}

function geoLocationOf(gps: exifReader.Exif['GPSInfo']): GeoLocation | null {
  if (!gps) return null;
  const latitude = signedDegrees(gps.GPSLatitude, gps.GPSLatitudeRef, 'N', 'S', 90);
  const longitude = signedDegrees(gps.GPSLongitude, gps.GPSLongitudeRef, 'E', 'W', 180);
  return latitude === null || longitude === null ? null : { latitude, longitude };
}

/**
 * Degrees/minutes/seconds rationals plus a hemisphere reference → signed decimal degrees. Values
 * are typed loosely because exif-reader returns whatever the file holds (a number for a single
 * value, null for an unreadable one, NaN for a zero denominator).
 */
function signedDegrees(
  parts: unknown,
  reference: unknown,
  positive: string,
  negative: string,
  limit: number,
): number | null {
  const components = Array.isArray(parts) ? (parts as unknown[]) : [parts];
  if (components.length === 0 || components.length > 3) return null;
  if (!components.every((part): part is number => typeof part === 'number' && Number.isFinite(part) && part >= 0)) {
    return null;
  }
  const [degrees = 0, minutes = 0, seconds = 0] = components;
  const magnitude = degrees + minutes / 60 + seconds / 3600;
  if (magnitude > limit) return null;
  const hemisphere = typeof reference === 'string' ? reference.trim().toUpperCase() : '';
  // Without a hemisphere the sign is unknowable; a guess would misplace half the world.
  if (hemisphere === positive) return magnitude;
  if (hemisphere === negative) return -magnitude;
  return null;
}

/**
 * exif-reader turns `YYYY:MM:DD HH:MM:SS` into a Date built with Date.UTC, so its UTC fields are
 * the camera's local ones. Cameras with an unset clock write `0000:00:00 00:00:00`, which Date.UTC
 * maps to 1899; no photo predates 1900, so earlier dates are treated as absent.
 */
function isoDateTime(value: unknown): string | null {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) return null;
  if (value.getUTCFullYear() < 1900) return null;
  return value.toISOString().slice(0, 19);
}
