import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
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
  /** Derivative cache results, counted in plain fields on the hot path and exported at scrape time. */
  readonly derivativeLookups = { l1: 0, l2: 0, miss: 0 };
  readonly transformSeconds: Histogram;
  readonly transformRejections: Counter<'code'>;
  /** ffmpeg runs of `gif2video` misses, by format (a hit runs none). */
  readonly gif2videoSeconds: Histogram<'format'>;
  /** Purge jobs of the caches in front of Trove, by provider and outcome (purged, failed, deferred, dropped). */
  readonly cachePurges: Counter<'provider' | 'outcome'>;
  readonly cachePurgeSeconds: Histogram<'provider'>;
  readonly cachePurgesQueued: Counter<'provider'>;
  /** Set by the composition root: waiting transformations per project and priority, read at scrape time. */
  queueDepth: () => Map<string, Readonly<Record<string, number>>> = () => new Map();
  /** Set by the composition root: transformation slots in use in this process, burst slots included. */
  slotsInUse: () => number = () => 0;
  /** Transformations held back because their project was over its cluster-wide share, by priority. */
  readonly slotDenials: Counter<'priority'>;
  /** Slot ledger calls that failed and went ahead without it (fail open), by operation. */
  readonly slotLedgerFailures: Counter<'operation'>;
  /** Jobs sent to transform nodes, by node and outcome (ok, refused: an engine refusal, failed: the node's). */
  readonly transformNodeRequests: Counter<'node' | 'outcome'>;
  readonly transformNodeSeconds: Histogram<'node'>;
  /** A region's copy of the configuration: age of the oldest change not yet applied (0: none). */
  readonly configReplicaLag: Gauge<'region'>;
  /** A region's copy of the configuration: time since it last held every change (its staleness bound). */
  readonly configReplicaStaleness: Gauge<'region'>;
  /** Time from a configuration change in the main database to its arrival in a region's copy. */
  readonly configReplicationDelay: Histogram<'region'>;
  /** Background jobs by state (waiting, active, delayed, dead), read from the queue at scrape time. */
  jobCounts: () => Promise<Record<string, number>> = async () => ({});

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
    // Names the process that answered a scrape: with TROVE_WORKERS > 1 each HTTP process has its own numbers.
    new Gauge({ name: 'trove_process_info', help: 'Always 1; its pid label tells which process answered.', labelNames: ['pid'], registers: [this.registry] }).set(
      { pid: String(process.pid) },
      1,
    );
    const lookups = this.derivativeLookups;
    new Counter({
      name: 'trove_derivative_cache_total',
      help: 'Transformed-image lookups by outcome: l1 (memory) hit, l2 (blob store) hit, or miss (transformed).',
      labelNames: ['result'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [result, count] of Object.entries(lookups)) this.inc({ result }, count);
      },
    });
    this.transformSeconds = new Histogram({
      name: 'trove_transform_duration_seconds',
      help: 'Time one image transformation took (excluding queueing).',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.registry],
    });
    this.configReplicaLag = new Gauge({
      name: 'trove_config_replica_lag_seconds',
      help: "Age of the oldest configuration change the region's copy has not applied yet (0 when it has them all), by region.",
      labelNames: ['region'],
      registers: [this.registry],
    });
    this.configReplicaStaleness = new Gauge({
      name: 'trove_config_replica_staleness_seconds',
      help: "Time since the region's copy of the configuration last held every change of the main database: how stale its answers can be, by region.",
      labelNames: ['region'],
      registers: [this.registry],
    });
    this.configReplicationDelay = new Histogram({
      name: 'trove_config_replication_delay_seconds',
      help: "Time from a configuration change in the main database to its application in the region's copy, by region.",
      labelNames: ['region'],
      buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10, 30, 60],
      registers: [this.registry],
    });
    this.gif2videoSeconds = new Histogram({
      name: 'trove_gif2video_duration_seconds',
      help: 'Time ffmpeg took to turn one animated GIF into a video (gif2video misses, excluding queueing), by format.',
      labelNames: ['format'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [this.registry],
    });
    this.transformRejections = new Counter({
      name: 'trove_transform_rejections_total',
      help: 'Transformations refused or failed, by reason (limits, queue full, bad operation…).',
      labelNames: ['code'],
      registers: [this.registry],
    });
    this.transformNodeRequests = new Counter({
      name: 'trove_transform_node_requests_total',
      help: 'Transformation jobs sent to transform nodes, by node and outcome: ok, refused (the job: an engine limit, a full queue) or failed (the node: unreachable, 5xx).',
      labelNames: ['node', 'outcome'],
      registers: [this.registry],
    });
    this.transformNodeSeconds = new Histogram({
      name: 'trove_transform_node_duration_seconds',
      help: 'One exchange with a transform node, queueing and transformation included.',
      labelNames: ['node'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.registry],
    });
    const jobCountsOf = () => this.jobCounts();
    new Gauge({
      name: 'trove_jobs',
      help: 'Background jobs (webhook deliveries, purges, eager transformations) by state; dead jobs ran out of retries.',
      labelNames: ['state'],
      registers: [this.registry],
      async collect() {
        this.reset();
        // A queue that cannot be reached leaves the gauge empty rather than failing the scrape.
        const counts = await jobCountsOf().catch(() => ({}));
        for (const [state, count] of Object.entries(counts)) this.set({ state }, count);
      },
    });
    const depthOf = () => this.queueDepth();
    new Gauge({
      name: 'trove_transform_queue_depth',
      help: 'Transformations waiting for a slot in this process, per project and priority (interactive, eager, background).',
      labelNames: ['project', 'priority'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [project, byPriority] of depthOf()) {
          for (const [priority, depth] of Object.entries(byPriority)) if (depth > 0) this.set({ project, priority }, depth);
        }
      },
    });
    this.cachePurges = new Counter({
      name: 'trove_cache_purges_total',
      help: 'Purge jobs of the shield and CDNs by provider and outcome: purged, failed (retried with backoff), deferred (rate budget or 429: queued again later), dropped (provider no longer configured).',
      labelNames: ['provider', 'outcome'],
      registers: [this.registry],
    });
    this.cachePurgeSeconds = new Histogram({
      name: 'trove_cache_purge_duration_seconds',
      help: 'Time one purge call to a provider took.',
      labelNames: ['provider'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.cachePurgesQueued = new Counter({
      name: 'trove_cache_purges_queued_total',
      help: 'Purge jobs queued per provider (queued minus purged, failed for good and dropped is what waits).',
      labelNames: ['provider'],
      registers: [this.registry],
    });
    const slotsInUseOf = () => this.slotsInUse();
    new Gauge({
      name: 'trove_transform_slots_in_use',
      help: 'Transformation slots in use in this process (node), burst slots included.',
      registers: [this.registry],
      collect() {
        this.set(slotsInUseOf());
      },
    });
    this.slotDenials = new Counter({
      name: 'trove_transform_slot_denials_total',
      help: 'Times the slot ledger held a project back because it held its whole cluster-wide share of slots, by the priority of the work held back.',
      labelNames: ['priority'],
      registers: [this.registry],
    });
    this.slotLedgerFailures = new Counter({
      name: 'trove_transform_slot_ledger_failures_total',
      help: 'Slot ledger calls that failed (Redis unreachable or slow); transformations then went ahead without the cluster-wide share (fail open).',
      labelNames: ['operation'],
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
