/**
 * Human-readable numbers for the widget. Decimal units (1 MB = 1,000,000 bytes), as file managers on
 * most systems show them, so "12 MB" here matches what the user sees next to the file on their disk.
 */

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'] as const;

/** `0 B`, `820 B`, `1.5 KB`, `12 MB`, `4.7 GB`: one decimal below 10, whole numbers above. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?';
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  // 9.96 would round to "10.0": show it as a whole number like every other value from 10 up.
  const rounded = value < 9.95 ? Math.round(value * 10) / 10 : Math.round(value);
  if (rounded >= 1000 && unit < UNITS.length - 1) return `1 ${UNITS[unit + 1]}`;
  return `${String(rounded)} ${UNITS[unit]}`;
}

/** Whole percent in 0..100; a half-done byte never shows as 100 % before the upload finishes. */
export function toPercent(loaded: number, total: number): number {
  if (!(total > 0)) return 0;
  const exact = (Math.max(0, Math.min(loaded, total)) / total) * 100;
  return loaded >= total ? 100 : Math.min(99, Math.floor(exact));
}
