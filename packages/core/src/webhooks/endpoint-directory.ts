import { setTimeout as sleep } from 'node:timers/promises';
import type { CoreContext } from '../context.ts';
import { readTenantWebhooks, type WebhookRecord } from './endpoints.ts';

interface Entry {
  fetchedAt: number;
  list: Promise<WebhookRecord[]>;
}

/**
 * Each tenant's endpoints, read with one strongly consistent Query and
 * shared by every event of that tenant, so a flash sale of 20,000 events a
 * second reads the tenant's webhook partition a few times a second, not
 * 20,000 times.
 *
 * New events use only a list read after they committed (plus the stream's
 * timestamp slack), so an endpoint created before an event hears it and one
 * deleted before it does not. Retries use a list at most
 * WEBHOOK_ENDPOINT_CACHE_MS old.
 */
export class EndpointDirectory {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly ctx: CoreContext) {}

  /** Forget a tenant's list (its webhook partition changed on the stream). */
  invalidate(tenant: string): void {
    this.entries.delete(tenant);
  }

  private fetch(tenant: string): Entry {
    const entry: Entry = { fetchedAt: this.ctx.now(), list: readTenantWebhooks(this.ctx, tenant) };
    entry.list.catch(() => this.entries.get(tenant) === entry && this.entries.delete(tenant));
    this.entries.set(tenant, entry);
    return entry;
  }

  /** The tenant's endpoints as of a moment after `committedAt` (epoch ms). */
  async forEvent(tenant: string, committedAt: number): Promise<WebhookRecord[]> {
    const need = committedAt + this.ctx.config.WEBHOOK_COMMIT_SLACK_MS;
    const entry = this.entries.get(tenant);
    if (entry && entry.fetchedAt > need) return entry.list;
    const wait = need + 1 - this.ctx.now();
    if (wait > 0) await sleep(wait);
    const again = this.entries.get(tenant);
    return (again && again.fetchedAt > need ? again : this.fetch(tenant)).list;
  }

  /** The tenant's endpoints, at most WEBHOOK_ENDPOINT_CACHE_MS old. */
  async current(tenant: string): Promise<WebhookRecord[]> {
    const entry = this.entries.get(tenant);
    if (entry && this.ctx.now() - entry.fetchedAt <= this.ctx.config.WEBHOOK_ENDPOINT_CACHE_MS) return entry.list;
    return this.fetch(tenant).list;
  }
}
