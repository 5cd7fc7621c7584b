/** What a transition of a code did: the type of its `lastChange` and of each history entry. */
export const CODE_EVENT_TYPES = ['assigned', 'locked', 'unlocked', 'redeemed', 'rolledBack'] as const;

/**
 * One transition of a code as the table records it: the code item's
 * `lastChange` (written with the transition) and each history item (written
 * from the change stream) hold the same fields, so they are declared once.
 */
export const CODE_CHANGE_ATTRIBUTES = {
  type: { type: CODE_EVENT_TYPES, required: true },
  at: { type: 'string', required: true },
  by: { type: 'string', required: true },
  userId: { type: 'string' },
  lockId: { type: 'string' },
  redemptionId: { type: 'string' },
  orderId: { type: 'string' },
  reason: { type: 'string' },
} as const;
