/** Where the page finds Trove's APIs, embedded in it by the server (src/http/routes/dashboard/shell.ts). */
export interface BootConfig {
  restBase: string;
  uploadBase: string;
  cdnBase: string;
  widgetUrl: string;
  /** The server's TROVE_MAX_OUTPUT_DIMENSION; null when the page does not carry it. */
  maxOutputDimension: number | null;
}

export function readBootConfig(): BootConfig {
  const element = document.getElementById('trove-boot');
  const parsed = element?.textContent ? (JSON.parse(element.textContent) as Partial<BootConfig>) : {};
  // Relative fallbacks keep the page usable if the shell ever omits a base.
  const trim = (value: string | undefined, fallback: string) => (value ?? fallback).replace(/\/+$/, '');
  const maxSide = parsed.maxOutputDimension;
  return {
    restBase: trim(parsed.restBase, ''),
    uploadBase: trim(parsed.uploadBase, '/upload'),
    cdnBase: trim(parsed.cdnBase, ''),
    widgetUrl: parsed.widgetUrl ?? '/widget.js',
    // Without it the playground leaves sizes to the server, whose 400 names its limit.
    maxOutputDimension: typeof maxSide === 'number' && Number.isSafeInteger(maxSide) && maxSide > 0 ? maxSide : null,
  };
}
