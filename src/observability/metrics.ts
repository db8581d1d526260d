import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Every Prometheus metric Trove exports, in one registry per app instance (tests build many apps). */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route'>;
  readonly bytesIn: Counter<'method'>;
  readonly bytesOut: Counter<'kind'>;
  readonly uploads: Counter<'method'>;
  readonly uploadFailures: Counter<'method' | 'code'>;

  constructor(options: { collectDefault: boolean } = { collectDefault: true }) {
    if (options.collectDefault) collectDefaultMetrics({ register: this.registry, prefix: 'trove_' });
    this.httpRequests = new Counter({
      name: 'trove_http_requests_total',
      help: 'HTTP requests answered, by route and status.',
      labelNames: ['method', 'route', 'status'],
      registers: [this.registry],
    });
    this.httpDuration = new Histogram({
      name: 'trove_http_request_duration_seconds',
      help: 'Time to answer an HTTP request.',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.registry],
    });
    this.bytesIn = new Counter({
      name: 'trove_upload_bytes_total',
      help: 'Bytes of files received, by upload method.',
      labelNames: ['method'],
      registers: [this.registry],
    });
    this.bytesOut = new Counter({
      name: 'trove_delivery_bytes_total',
      help: 'Bytes of file content sent to clients.',
      labelNames: ['kind'],
      registers: [this.registry],
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
