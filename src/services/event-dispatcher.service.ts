import type { StoredFile } from '../domain/file.js';
import type { Project } from '../domain/project.js';
import type { WebhookEvent } from '../domain/webhook.js';
import type { OutboxEvent, ProjectsRepository } from '../ports/repositories.js';
import type { ShardResolver, ShardScan } from '../ports/shards.js';
import { isHomeShard } from './shard-lookup.js';
import type { WebhookService } from './webhook.service.js';

/** Work an event sets off besides its webhooks; a failure leaves the event in the outbox for the next pass. */
type FileEventHandler = (file: StoredFile) => Promise<unknown>;
/** Work done once for all the events of some kinds taken together (one purge for a batch delete). */
type FileBatchHandler = (files: StoredFile[]) => Promise<unknown>;

interface DispatcherLogger {
  warn(object: Record<string, unknown>, message: string): void;
}

/** Pending deliveries untouched this long lost their job (the longest retry gap is 2 h). */
const STALE_DELIVERY_MS = 3 * 3_600_000;
const BATCH = 100;

/**
 * Turns recorded file events (the outbox, written with each change) into webhook deliveries and
 * purge jobs, then forgets them. It runs right after a change commits and on a timer, so events
 * left behind by a crash or a queue outage go out as soon as the queue is reachable again. Every
 * step is idempotent: several dispatchers on several nodes may see the same event. Other services
 * hook their own work onto an event with `on` (the purge of a deleted file), before its webhooks go out.
 */
export class EventDispatcher {
  private running: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private lastStaleCheck = 0;
  private readonly projects = new Map<string, { project: Project | null; at: number }>();
  private readonly handlers = new Map<WebhookEvent, FileEventHandler[]>();
  private readonly batchHandlers: Array<{ events: ReadonlySet<WebhookEvent>; handler: FileBatchHandler }> = [];

  constructor(
    private readonly shards: ShardResolver,
    private readonly projectsRepository: Pick<ProjectsRepository, 'findById'>,
    private readonly webhooks: WebhookService,
    private readonly logger: DispatcherLogger,
  ) {}

  /** Runs `handler` for every `event` taken from the outbox, in the order handlers were added. */
  on(event: WebhookEvent, handler: FileEventHandler): void {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), handler]);
  }

  /**
   * Runs `handler` once per pass over the outbox with the files of every event of these kinds it
   * took (at most 100 events), before any of them is handled one by one.
   */
  onBatch(events: readonly WebhookEvent[], handler: FileBatchHandler): void {
    this.batchHandlers.push({ events: new Set(events), handler });
  }

  /** Dispatches soon; calls while a pass runs fold into one more pass. */
  nudge(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((error: unknown) => this.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'file events wait for the next dispatch'))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.nudge();
        }
      });
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => this.nudge(), intervalMs);
    this.timer.unref();
    this.nudge();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Waits for the pass in progress (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    // Each shard's outbox on its own: a shard that does not answer holds back only its projects' events.
    const outcomes = await this.shards.fanOut((shard) => this.drainShard(shard));
    const failed = outcomes.find((outcome) => !outcome.ok);
    if (failed && !failed.ok) this.logger.warn({ shard: failed.shard, err: failed.error.message }, 'file events of this shard wait for the next dispatch');
    if (Date.now() - this.lastStaleCheck > 60_000) {
      this.lastStaleCheck = Date.now();
      await this.webhooks.requeueStale(STALE_DELIVERY_MS);
    }
  }

  private async drainShard(shard: ShardScan): Promise<void> {
    // Events of a project whose home is another shard (a copy made by a move) are left to its move.
    const elsewhere = new Set<string>();
    for (;;) {
      const taken = await shard.outbox.oldest(BATCH + elsewhere.size);
      const events: OutboxEvent[] = [];
      for (const event of taken) {
        if (elsewhere.has(event.id)) continue;
        if (await isHomeShard(this.shards, shard, event.projectId)) events.push(event);
        else elsewhere.add(event.id);
      }
      const files: Array<StoredFile | null> = [];
      for (const event of events) files.push(await shard.files.findForProject(event.projectId, event.fileUuid, { includeRemoved: true }));
      await this.dispatchBatches(events, files);
      for (const [index, event] of events.entries()) {
        await this.dispatch(event, files[index] ?? null);
        await shard.outbox.remove(event.id);
      }
      if (events.length === 0 || taken.length < BATCH + elsewhere.size || elsewhere.size > 10_000) break;
    }
  }

  private async dispatchBatches(events: OutboxEvent[], files: Array<StoredFile | null>): Promise<void> {
    for (const { events: kinds, handler } of this.batchHandlers) {
      const matching = files.filter((file, index): file is StoredFile => file !== null && kinds.has(events[index]!.event));
      if (matching.length > 0) await handler(matching);
    }
  }

  private async dispatch(event: OutboxEvent, file: StoredFile | null): Promise<void> {
    if (!file) return;
    for (const handler of this.handlers.get(event.event) ?? []) await handler(file);
    const project = await this.project(event.projectId);
    if (project) await this.webhooks.dispatch(project, event, file);
  }

  private async project(id: string): Promise<Project | null> {
    const cached = this.projects.get(id);
    if (cached && Date.now() - cached.at < 5_000) return cached.project;
    const project = await this.projectsRepository.findById(id);
    if (this.projects.size > 10_000) this.projects.clear();
    this.projects.set(id, { project, at: Date.now() });
    return project;
  }
}
