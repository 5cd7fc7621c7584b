import type { CoreContext } from '../context.ts';
import type { ChangeConsumer } from '../stream/change.ts';
import { EndpointDirectory } from './endpoint-directory.ts';
import { LocalDispatcher } from './local-dispatcher.ts';
import { createWebhookEmitter } from './emitter.ts';
import { createStockWatch } from './stock-watch.ts';
import type { CodeEventOf } from './events.ts';
import type { DeliverySink } from './delivery.ts';

export * from './event-types.ts';
export * from './endpoints.ts';
export * from './deliveries.ts';
export { DELIVERY_STATUSES as DELIVERY_STATUS_VALUES, type DeliveryStatus } from '../entities/webhook-delivery.ts';
export { EndpointDirectory } from './endpoint-directory.ts';
export { LocalDispatcher } from './local-dispatcher.ts';
export { createWebhookEmitter } from './emitter.ts';
export { createStockWatch, claimRate } from './stock-watch.ts';
export { eventOf, messageIdOf, type CodeEventOf, type CodeLifeEvent } from './events.ts';
export { sendOnce, signedHeaders } from './send.ts';
export { refusedAddress } from './ssrf-guard.ts';
export { sqsDeliverySink, processDeliveryMessage, messageGroupOf } from './sqs-sink.ts';
export type { DeliverySink } from './delivery.ts';

/**
 * The consumers the change stream feeds for webhooks: the stock watch (which
 * fires book alerts) and the emitter. With no sink given, delivery runs in
 * this process (`npm start`, tests); call `dispatcher.start()` to resume
 * pending retries and `stop()` on the way out.
 */
export function webhookConsumers(ctx: CoreContext, options: { codeEventOf: CodeEventOf; sink?: DeliverySink }) {
  const directory = new EndpointDirectory(ctx);
  const dispatcher = options.sink ? undefined : new LocalDispatcher(ctx, directory);
  const emitter = createWebhookEmitter(ctx, { directory, sink: options.sink ?? dispatcher!, codeEventOf: options.codeEventOf });
  const consumers: ChangeConsumer[] = [createStockWatch(ctx), emitter];
  return { consumers, dispatcher, directory };
}
