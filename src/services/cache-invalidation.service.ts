import type { EventBus, TroveEvent } from '../ports/event-bus.js';
import type { ApiAuthService } from './api-auth.service.js';
import type { DeliveryService } from './delivery.service.js';
import type { TransformService } from './transform/transform.service.js';
import type { UploadAuthService } from './upload-auth.service.js';

/**
 * Keeps the memory caches of every process in step with the records they copy. The process that makes
 * a change drops its own copies at once (its next request must see the change), then tells every
 * process, itself included, over the event bus; `apply` is what each process does on hearing it.
 */
export class CacheInvalidationService {
  constructor(
    private readonly events: EventBus,
    private readonly fileCaches: { delivery: DeliveryService; transform: TransformService },
    private readonly projectCaches: { uploadAuth: UploadAuthService; apiAuth: ApiAuthService },
  ) {}

  /** Drops the copies an event names; every process subscribes this to its event bus. */
  apply(event: TroveEvent): void {
    switch (event.type) {
      case 'file.evicted':
        this.fileCaches.delivery.evict(event.uuid);
        this.fileCaches.transform.forgetFromMemory(event.uuid);
        return;
      case 'project.changed':
        this.projectCaches.uploadAuth.forgetProjects();
        this.projectCaches.apiAuth.forgetProjects();
        return;
    }
  }

  /** A file was deleted or changed: no process may serve it from memory any longer. */
  async evictFile(uuid: string): Promise<void> {
    await this.announce({ type: 'file.evicted', uuid });
  }

  /**
   * An expired file leaves the blob store's derivatives first (a derivative must never outlive its
   * original), then every process's memory, not only the sweeping one's.
   */
  async forgetExpiredFile(uuid: string): Promise<void> {
    await this.withdrawFile(uuid);
  }

  /**
   * A file that must no longer be served at all (expired, or found infected): its derivatives leave
   * the blob store, then every process's memory, since cache hits read no record.
   */
  async withdrawFile(uuid: string): Promise<void> {
    await this.fileCaches.transform.purge(uuid);
    await this.evictFile(uuid);
  }

  /**
   * A project's settings or keys changed. The change is committed already, so a failed notice only
   * leaves other processes on their short cache lifetime; it never fails the change.
   */
  async projectChanged(projectId: string): Promise<void> {
    await this.announce({ type: 'project.changed', projectId }).catch(() => undefined);
  }

  private async announce(event: TroveEvent): Promise<void> {
    this.apply(event);
    await this.events.publish(event);
  }
}
