import { missCounterKey } from '../access/rate-limit.ts';
import { deleteIfUnchanged, reread } from './legacy-writes.ts';
import { foldCounters } from './fold-counters.ts';
import type { Migration, TableItem } from './migration.ts';

const CALLER = 'caller#';
const TENANT = 'tenant#';

/**
 * A code guesser's misses are forgotten today: the previous release counted a
 * caller's CODE_NOT_FOUND answers on its per-caller rate item (scope
 * `caller#<sub>`, beside its per-minute request counts), and today's limiter
 * reads them from an item of their own (scope `misses#<sub>`, commit 6805134),
 * so an upgrade would hand every guesser a fresh allowance.
 *
 * The misses of a window still running are folded into today's item for the
 * same caller and window, exactly once (fold-counters.ts); the rest of what
 * the previous release kept for its limits (per-minute counts, the tenant's
 * counter shards) has no reader today, since those limits live in each
 * instance's memory: `finish` deletes it with the old caller items (TTL would
 * within 20 minutes).
 */
export const missCountersScope: Migration = {
  id: '005-miss-counters-scope',
  summary: "a caller's CODE_NOT_FOUND count moves from its caller#<sub> rate item to misses#<sub>",
  filter: {
    expression: '#e = :e AND (begins_with(#scope, :caller) OR begins_with(#scope, :tenant))',
    names: { '#e': '__edb_e__', '#scope': 'scope' },
    values: { ':e': 'rateCounter', ':caller': CALLER, ':tenant': TENANT },
  },
  async migrate(ctx, item, phase) {
    if (item.__edb_e__ !== 'rateCounter') return 'unchanged';
    const scope = String(item.scope);
    const alive = item.expiresAt * 1000 > ctx.now();
    if (scope.startsWith(CALLER) && alive && item.misses !== undefined) {
      const key = missCounterKey(item.tenant, scope.slice(CALLER.length), item.window);
      return foldCounters(ctx, item, phase, {
        counters: ['misses'],
        target: async (delta) => ({ update: ctx.store.rateCounter.update(key).add(delta).set({ expiresAt: key.expiresAt }) }),
        upToDate: async () => !!(await ctx.store.rateCounter.get(key).go({ consistent: true })).data,
      });
    }
    if (phase === 'prepare' || !(scope.startsWith(CALLER) || scope.startsWith(TENANT))) return 'unchanged';
    // No count anyone reads today: gone, unless the previous release is still writing it (then read it again).
    for (let old: TableItem | null = item; old; old = await reread(ctx.store, old)) {
      if (old.misses !== undefined && old.expiresAt * 1000 > ctx.now()) return missCountersScope.migrate(ctx, old, phase);
      if (await deleteIfUnchanged(ctx.store, old, ['misses', 'count', 'expiresAt'])) return 'changed';
    }
    return 'unchanged';
  },
};
