import type { CoreContext } from '../context.ts';
import type { ChangeConsumer } from '../stream/change.ts';
import { EndpointDirectory } from './endpoint-directory.ts';
import { LocalDispatcher } from './local-dispatcher.ts';
import { createWebhookEmitter } from './emitter.ts';
import { createStockWatch } from './stock-watch.ts';
import type { CodeEventsOf } from './events.ts';
import type { DeliverySink } from './delivery.ts';
import { createSqsClient } from '../aws/sqs.ts';
import { sqsDeliverySink } from './sqs-sink.ts';

/**
 * The consumers the change stream feeds for webhooks: the stock watch (which
 * fires book alerts) and the emitter. On AWS (WEBHOOK_QUEUE_URL set) the
 * emitter enqueues on the delivery queue; otherwise delivery runs in this
 * process (`npm start`, tests): call `dispatcher.start()` to resume pending
 * retries and `stop()` on the way out.
 */
export function webhookConsumers(ctx: CoreContext, options: { codeEventsOf: CodeEventsOf; sink?: DeliverySink }) {
  const directory = new EndpointDirectory(ctx);
  const queueUrl = ctx.config.WEBHOOK_QUEUE_URL;
  const sink = options.sink ?? (queueUrl ? sqsDeliverySink(createSqsClient({ region: ctx.config.AWS_REGION }), queueUrl) : undefined);
  const dispatcher = sink ? undefined : new LocalDispatcher(ctx, directory);
  const emitter: ChangeConsumer = {
    ...createWebhookEmitter(ctx, { directory, sink: sink ?? dispatcher!, codeEventsOf: options.codeEventsOf }),
    ...(dispatcher ? { start: () => dispatcher.start(), stop: async () => dispatcher.stop() } : {}),
  };
  const consumers: ChangeConsumer[] = [createStockWatch(ctx), emitter];
  return { consumers, dispatcher, directory };
}
