import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { holds, where, type Cond } from '../db/condition.ts';
import { checkTransition, itemOrNone, maybe, offlineStore as store } from '../db/transition.test-support.ts';
import { DELIVERY_STATUSES, DUE_FOR_RETRY } from '../entities/webhook-delivery.ts';
import { fireAlert, rearmAlert, recordAttempt, removeEndpoint, resend, rotateSecret, shortenOverlap, writeDownPending } from './transitions.ts';
import { deleteWebhookRefusals, rotateWebhookSecretRefusals } from './endpoints.ts';
import { resendDeliveryRefusals } from './deliveries.ts';

// Webhooks' conditional writes, held to the requests endpoints.ts, deliveries.ts and
// stock-watch.ts send: the expression ElectroDB renders, the condition as data and allows
// agree on generated items, and every refusal is declared.

const ENDPOINT = { tenant: 't1', webhookId: 'w1' };
const MESSAGE = { ...ENDPOINT, shard: 0, messageId: 'msg_1' };
const ALERT = { tenant: 't1', bookId: 'b1', kind: 'low_stock' as const };
const delivery = itemOrNone({ status: maybe(fc.constantFrom(...DELIVERY_STATUSES)), resends: maybe(fc.integer({ min: 0, max: 2 })) });
const alert = itemOrNone({ state: maybe(fc.constantFrom('armed', 'fired')) });
const putRecord = (cond: Cond) =>
  store.webhookDelivery
    .put({ ...MESSAGE, eventType: 'code.locked', lane: 'l', order: 'o', body: '{}', status: 'pending', attempts: 1, resends: 1, createdAt: 1 })
    .where(where(cond))
    .params();

describe('webhooks: the condition sent, the condition as data and allows agree; refusals are declared', () => {
  it('a secret is rotated from the one read', () =>
    checkTransition(
      rotateSecret,
      itemOrNone({ secret: maybe(fc.constantFrom('whsec_a', 'whsec_b')) }),
      fc.record({ webhookId: fc.constant('w1'), secret: fc.constantFrom('whsec_a', 'whsec_b') }),
      (cond) => store.webhook.patch(ENDPOINT).set({ secret: 'whsec_c' }).where(where(cond)).params(),
    ));
  it("a rotation that joined another shortens the old secret's overlap only while the endpoint is at that rotation", () =>
    checkTransition(
      shortenOverlap,
      itemOrNone({
        secret: maybe(fc.constantFrom('whsec_a', 'whsec_b')),
        previousSecret: maybe(fc.constantFrom('whsec_a', 'whsec_b')),
        previousSecretUntil: maybe(fc.integer({ min: 0, max: 3 })),
      }),
      fc.record({
        webhookId: fc.constant('w1'),
        secret: fc.constantFrom('whsec_a', 'whsec_b'),
        previousSecret: fc.constantFrom('whsec_a', 'whsec_b'),
        until: fc.integer({ min: 0, max: 3 }),
      }),
      (cond) => store.webhook.patch(ENDPOINT).set({ previousSecretUntil: 1 }).where(where(cond)).params(),
    ));
  it('an endpoint is deleted once', () =>
    checkTransition(removeEndpoint, itemOrNone({ webhookId: fc.constant('w1') }), fc.record({ webhookId: fc.constant('w1') }), (cond) =>
      store.webhook.delete(ENDPOINT).where(where(cond)).params(),
    ));
  it("an attempt's record never goes back to an older resend", () =>
    checkTransition(recordAttempt, delivery, fc.record({ webhookId: fc.constant('w1'), messageId: fc.constant('msg_1'), resends: fc.integer({ min: 0, max: 2 }) }), putRecord));
  it('a message is written down as pending only while no attempt has recorded it', () =>
    checkTransition(writeDownPending, delivery, fc.record({ webhookId: fc.constant('w1'), messageId: fc.constant('msg_1') }), (cond) =>
      store.webhookDelivery
        .create({ ...MESSAGE, eventType: 'code.locked', lane: 'l', order: 'o', body: '{}', status: 'pending', attempts: 0, resends: 0, createdAt: 1 })
        .where(where(cond))
        .params(),
    ));
  it('a failed message is sent again once', () =>
    checkTransition(
      resend,
      delivery,
      fc.record({ webhookId: fc.constant('w1'), messageId: fc.constant('msg_1'), resends: maybe(fc.integer({ min: 0, max: 2 })) }),
      (cond) => store.webhookDelivery.patch(MESSAGE).set({ status: 'pending', attempts: 0 }).remove(['lastError']).where(where(cond)).params(),
    ));
  it('a stock alert fires once, and is re-armed once', () => {
    checkTransition(fireAlert, alert, fc.constant(undefined), (cond) =>
      store.bookAlert.upsert({ ...ALERT, state: 'fired', changedAt: 'now' }).where(where(cond)).params(),
    );
    checkTransition(rearmAlert, alert, fc.constant(undefined), (cond) =>
      store.bookAlert.patch(ALERT).set({ state: 'armed', changedAt: 'now' }).where(where(cond)).params(),
    );
  });
});

describe('the due index follows the same data', () => {
  it.each(DELIVERY_STATUSES.flatMap((status) => [true, false].map((resumable) => [status, resumable] as const)))(
    'a delivery %s, resumable %s, is in it exactly when it is due for a retry here',
    (status, resumable) => {
      const sent = store.webhookDelivery.patch(MESSAGE).set({ status, resumable }).params() as { UpdateExpression: string };
      expect(sent.UpdateExpression.includes('#gsi2pk = '), 'the entry is written, not removed').toBe(holds(DUE_FOR_RETRY, { status, resumable }));
      expect(holds(DUE_FOR_RETRY, { status, resumable })).toBe(status === 'pending' && resumable);
    },
  );
});

describe('the routes document what the use cases refuse', () => {
  it('delete, rotate (a lost race joins the winner, never answered) and resend', () => {
    expect(deleteWebhookRefusals.codes).toEqual(['WEBHOOK_NOT_FOUND']);
    expect(rotateWebhookSecretRefusals.codes).toEqual(['WEBHOOK_NOT_FOUND']);
    expect(resendDeliveryRefusals.codes).toEqual(['WEBHOOK_NOT_FOUND', 'DELIVERY_NOT_FOUND', 'DELIVERY_NOT_FAILED']);
  });
});
