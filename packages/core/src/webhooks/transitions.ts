import { AppError } from '../errors.ts';
import { always, and, eq, exists, gt, isAt, lte, notExists, or } from '../db/condition.ts';
import { Refused, transition, type Item } from '../db/transition.ts';

/**
 * Every conditional write of webhooks (db/transition.ts says what a
 * transition is): an endpoint's secret and its removal, a message's record
 * and its resend, a book's stock alert.
 */

export const webhookNotFound = (id: string) => new AppError('WEBHOOK_NOT_FOUND', `No webhook ${id}.`);

const rotatedMeanwhile = (item: Item | null, webhookId: string) =>
  item ? new Refused('rotated', 'another rotation got in first', item) : webhookNotFound(webhookId);

/**
 * The secret is replaced only from the one read. Of two rotations at once,
 * the loser does not rotate again (that would rotate out the winner's new
 * secret and drop the one receivers held before): it joins the winner's
 * rotation (endpoints.ts).
 */
export const rotateSecret = transition({
  refusals: ['WEBHOOK_NOT_FOUND', 'rotated'],
  condition: ({ secret }: { webhookId: string; secret: string }) => eq('secret', secret),
  refusal: (item, { webhookId }) => rotatedMeanwhile(item, webhookId),
});

/**
 * A rotation that joined another one shortens the old secret's overlap to
 * its own, as long as the endpoint is still at that rotation (the same new
 * secret, rotating out the same old one) and the overlap only gets shorter,
 * so of several joining at once the shortest stands.
 */
export const shortenOverlap = transition({
  refusals: ['WEBHOOK_NOT_FOUND', 'rotated'],
  condition: ({ secret, previousSecret, until }: { webhookId: string; secret: string; previousSecret: string; until: number }) =>
    and(eq('secret', secret), eq('previousSecret', previousSecret), gt('previousSecretUntil', until)),
  refusal: (item, { webhookId }) => rotatedMeanwhile(item, webhookId),
});

/** An endpoint is deleted once (a delete demands no item by itself: the condition does). */
export const removeEndpoint = transition({
  refusals: ['WEBHOOK_NOT_FOUND'],
  presence: 'any',
  condition: (_: { webhookId: string }) => exists('webhookId'),
  refusal: (_item, { webhookId }) => webhookNotFound(webhookId),
});

type MessageInput = { webhookId: string; messageId: string };

/**
 * An attempt's record (a put) never takes the message back to an older
 * resend: a late copy of a message sent before an admin's resend cannot
 * overwrite where the resend stands.
 */
export const recordAttempt = transition({
  refusals: ['superseded'],
  presence: 'any',
  condition: ({ resends }: MessageInput & { resends: number }) => or(notExists('resends'), lte('resends', resends)),
  refusal: (item: Item | null, { messageId }) => new Refused('superseded', `message ${messageId} was sent again since`, item),
});

/** A message not attempted yet is written down as pending only while no attempt has recorded it (a create). */
export const writeDownPending = transition({
  refusals: ['recorded'],
  presence: 'absent',
  condition: (_: MessageInput) => always,
  refusal: (item: Item | null, { messageId }) => new Refused('recorded', `message ${messageId} is on record already`, item),
});

/** A failed message is sent again once: it is still failed, and no resend got in since it was read (`resends`). */
export const resend = transition({
  refusals: ['DELIVERY_NOT_FOUND', 'DELIVERY_NOT_FAILED'],
  condition: ({ resends }: MessageInput & { resends?: number }) => and(eq('status', 'failed'), isAt('resends', resends)),
  refusal: (item: Item | null, { webhookId, messageId, resends }) => {
    if (!item) return new AppError('DELIVERY_NOT_FOUND', `No message ${messageId} to webhook ${webhookId}.`);
    if (item.resends !== resends) return new AppError('DELIVERY_NOT_FAILED', `Message ${messageId} is being sent again already.`);
    return new AppError('DELIVERY_NOT_FAILED', `Message ${messageId} is ${item.status}; only failed messages are sent again.`);
  },
});

/** A stock alert fires once (an upsert: an alert never written is armed); another watcher that saw the crossing too is refused. */
export const fireAlert = transition({
  refusals: ['fired'],
  presence: 'any',
  condition: () => or(notExists('state'), eq('state', 'armed')),
  refusal: (item: Item | null) => new Refused('fired', 'the alert has fired already', item),
});

/** A fired alert is re-armed once stock rose above its line again. */
export const rearmAlert = transition({
  refusals: ['armed'],
  condition: () => eq('state', 'fired'),
  refusal: (item: Item | null) => new Refused('armed', 'the alert is armed already', item),
});
