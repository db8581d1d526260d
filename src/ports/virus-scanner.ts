import type { Readable } from 'node:stream';

/** What the scanner found in one stream. */
export interface ScanVerdict {
  infected: boolean;
  /** The name of the signature that matched (e.g. `Win.Test.EICAR_HDB-1`); null when clean. */
  signature: string | null;
}

type VirusScanErrorCode =
  /** The scanner could not be reached or broke the connection. */
  | 'UNREACHABLE'
  /** No answer within the deadline. */
  | 'TIMEOUT'
  /** The file is larger than the scanner accepts; scanning it again will not help. */
  | 'TOO_LARGE'
  /** The scanner answered with an error or something Trove cannot read. */
  | 'SCANNER_ERROR';

export class VirusScanError extends Error {
  readonly code: VirusScanErrorCode;
  constructor(code: VirusScanErrorCode, message: string) {
    super(message);
    this.name = 'VirusScanError';
    this.code = code;
  }

  /** Whether trying the same scan later may succeed. */
  get retryable(): boolean {
    return this.code === 'UNREACHABLE' || this.code === 'TIMEOUT';
  }
}

/** A virus scanner that reads a stream (ClamAV's clamd). Every method rejects with a VirusScanError. */
export interface VirusScanner {
  /** Where the scanner is, for messages (`tcp://127.0.0.1:3310`, `unix:/run/clamav/clamd.ctl`). */
  readonly address: string;
  /** The largest stream it accepts, in bytes; a larger file is refused without being sent. */
  readonly maxStreamBytes: number;
  ping(): Promise<void>;
  /** The engine's version, e.g. `1.4.6`. */
  version(): Promise<string>;
  /** Scans `size` bytes read from `stream`, which it consumes or destroys. */
  scan(stream: Readable, size: number): Promise<ScanVerdict>;
}
