import { conditionalWrite } from '../db/conditional-write.ts';
import { refusedBy } from '../db/transition.ts';
import { createOnce } from './transitions.ts';
import { isPlainRedemptionId } from '../code/redemption-id.ts';
import { retried } from '../db/retried.ts';
import type { Migration } from './migration.ts';

/**
 * Redemptions with plain UUIDs cannot be rolled back today: a rollback finds
 * the record under its code, and today's ids name it (`<code>.<uuid>`), but
 * the previous release answered plain UUIDs, which clients hold (an order
 * system keeps the id it got at redeem time to cancel with later).
 *
 * The ids stay what they are (the clients' copies must keep working, and the
 * record stays where it is, under its code); each such redemption gets a
 * lookup item from its id to its code (entities/redemption-lookup.ts), which
 * a rollback of a plain id reads. One put per old redemption, once; nothing
 * on the redeem path. Both phases do the same: a redemption the previous
 * release makes after `prepare` passed is picked up by `finish`.
 */
export const redemptionIdsNameTheirCode: Migration = {
  id: '002-redemption-ids-name-their-code',
  summary: 'redemptions with plain UUID ids get a lookup item from the id to their code',
  filter: {
    expression: '#e = :e AND NOT contains(#id, :dot)',
    names: { '#e': '__edb_e__', '#id': 'redemptionId' },
    values: { ':e': 'redemption', ':dot': '.' },
  },
  async migrate(ctx, item) {
    if (item.__edb_e__ !== 'redemption' || !isPlainRedemptionId(item.redemptionId)) return 'unchanged';
    try {
      await retried(() =>
        conditionalWrite(
          ctx.store,
          (e) => e.redemptionLookup.create({ tenant: item.tenant, redemptionId: item.redemptionId, code: item.code }),
          (found) => createOnce.refusal(found, undefined),
        ),
      );
      return 'changed';
    } catch (e) {
      if (refusedBy(createOnce, e)) return 'unchanged'; // made by an earlier run
      throw e;
    }
  },
};
