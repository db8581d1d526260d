import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { HttpMetrics } from './http-metrics.js';

/** Every Prometheus metric Trove exports, in one registry per app instance (tests build many apps). */
export class Metrics {
  readonly registry = new Registry();
  readonly http = new HttpMetrics();
  /** Bytes sent, by kind (original, derivative): incremented per response without label hashing. */
  readonly deliveredBytes: Record<string, number> = { original: 0 };
  readonly bytesIn: Counter<'method'>;
  readonly bytesOut: Counter<'kind'>;
  readonly uploads: Counter<'method'>;
  readonly uploadFailures: Counter<'method' | 'code'>;

  /** The whole exposition: prom-client's registry plus the hot-path HTTP series. */
  async render(): Promise<string> {
    return `${await this.registry.metrics()}${this.http.render()}`;
  }

  constructor(options: { collectDefault: boolean } = { collectDefault: true }) {
    if (options.collectDefault) collectDefaultMetrics({ register: this.registry, prefix: 'trove_' });
    this.bytesIn = new Counter({
      name: 'trove_upload_bytes_total',
      help: 'Bytes of files received, by upload method.',
      labelNames: ['method'],
      registers: [this.registry],
    });
    const delivered = this.deliveredBytes;
    this.bytesOut = new Counter({
      name: 'trove_delivery_bytes_total',
      help: 'Bytes of file content sent to clients.',
      labelNames: ['kind'],
      registers: [this.registry],
      // Summed in a plain object on the hot path and handed to prom-client only when scraped.
      collect() {
        this.reset();
        for (const [kind, bytes] of Object.entries(delivered)) this.inc({ kind }, bytes);
      },
    });
    this.uploads = new Counter({
      name: 'trove_uploads_total',
      help: 'Files uploaded, by method (base, multipart, from_url).',
      labelNames: ['method'],
      registers: [this.registry],
    });
    this.uploadFailures = new Counter({
      name: 'trove_upload_failures_total',
      help: 'Upload requests refused or failed, by method and error code.',
      labelNames: ['method', 'code'],
      registers: [this.registry],
    });
  }
}
