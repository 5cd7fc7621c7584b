import { OpenAPIHono } from '@hono/zod-openapi';
import {
  createWebhook,
  createWebhookRefusals,
  deleteWebhook,
  deleteWebhookRefusals,
  getWebhook,
  listDeliveries,
  listWebhooks,
  resendDelivery,
  resendDeliveryRefusals,
  rotateWebhookSecret,
  rotateWebhookSecretRefusals,
  WEBHOOK_QUOTA,
  type CoreContext,
} from '@coupons/core';
import type { AppEnv } from '../env.ts';
import { apiRoute, bearer, errors, jsonBody, jsonResponse } from '../openapi.ts';
import { respondOnce, respondOnceMultiStep } from '../respond.ts';
import {
  CreatedWebhookSchema,
  CreateWebhookSchema,
  DeliveriesQuery,
  DeliveryListSchema,
  DeliverySchema,
  MessageParam,
  RotatedSecretSchema,
  RotateSecretSchema,
  WebhookIdParam,
  WebhookListSchema,
  WebhookSchema,
  WebhooksQuery,
} from '../webhook-schemas.ts';

const tags = ['Webhooks'];
const notFound = 'WEBHOOK_NOT_FOUND (also for another tenant\'s webhook)';

/** Where a tenant's events are delivered (admin only). Delivery itself runs off the request path. */
export function webhookRoutes(core: CoreContext) {
  return new OpenAPIHono<AppEnv>()
    .openapi(
      apiRoute({
        method: 'post',
        path: '/webhooks',
        tags,
        operationId: 'createWebhook',
        summary: 'Add an endpoint (admin); the signing secret is shown only in this answer',
        description: `A tenant has at most ${WEBHOOK_QUOTA.cap} endpoints: one more is 409 \`TENANT_LIMIT_REACHED\`.`,
        security: bearer,
        request: jsonBody(CreateWebhookSchema),
        responses: { 201: jsonResponse(CreatedWebhookSchema, 'The endpoint and its secret'), ...errors('post', ...createWebhookRefusals.codes) },
      }),
      (c) => respondOnce(c, core, 201, (opts) => createWebhook(core, c.get('actor'), c.req.valid('json'), opts)),
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/webhooks',
        tags,
        operationId: 'listWebhooks',
        summary: "The tenant's endpoints, without secrets, oldest first, a page at a time (admin)",
        security: bearer,
        request: { query: WebhooksQuery },
        responses: { 200: jsonResponse(WebhookListSchema, 'The endpoints, oldest first'), ...errors('get') },
      }),
      async (c) => c.json(await listWebhooks(core, c.get('actor'), c.req.valid('query')), 200),
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/webhooks/{id}',
        tags,
        operationId: 'getWebhook',
        summary: 'One endpoint, without its secret (admin)',
        security: bearer,
        request: { params: WebhookIdParam },
        responses: { 200: jsonResponse(WebhookSchema, 'The endpoint'), ...errors('get', 'WEBHOOK_NOT_FOUND') },
      }),
      async (c) => c.json(await getWebhook(core, c.get('actor'), c.req.valid('param').id), 200),
    )
    .openapi(
      apiRoute({
        method: 'delete',
        path: '/webhooks/{id}',
        tags,
        operationId: 'deleteWebhook',
        summary: 'Remove an endpoint (admin): nothing more is delivered there',
        description: `404 ${notFound}.`,
        security: bearer,
        request: { params: WebhookIdParam },
        responses: { 204: { description: 'Deleted' }, ...errors('delete', ...deleteWebhookRefusals.codes) },
      }),
      async (c) => {
        await deleteWebhook(core, c.get('actor'), c.req.valid('param').id);
        return c.body(null, 204);
      },
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/webhooks/{id}/rotate-secret',
        tags,
        operationId: 'rotateWebhookSecret',
        summary: 'New signing secret (admin); the old one keeps signing during the overlap',
        security: bearer,
        request: { params: WebhookIdParam, ...jsonBody(RotateSecretSchema, false) },
        responses: { 200: jsonResponse(RotatedSecretSchema, 'The new secret, shown only here'), ...errors('post', ...rotateWebhookSecretRefusals.codes) },
      }),
      (c) =>
        respondOnceMultiStep(c, core, 200, () =>
          rotateWebhookSecret(core, c.get('actor'), c.req.valid('param').id, c.req.valid('json') ?? {}),
        ),
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/webhooks/{id}/deliveries',
        tags,
        operationId: 'listWebhookDeliveries',
        summary: 'Messages to an endpoint and where each stands, newest first, a page at a time (admin)',
        description:
          'Every message the log still holds (`WEBHOOK_LOG_DAYS`), newest first: follow `nextCursor` for older ones. With `status`, ' +
          'a page may hold fewer than `limit` messages (even none) and still carry a cursor; walking the cursor finds every message of that status.',
        security: bearer,
        request: { params: WebhookIdParam, query: DeliveriesQuery },
        responses: { 200: jsonResponse(DeliveryListSchema, 'Newest first'), ...errors('get', 'WEBHOOK_NOT_FOUND') },
      }),
      async (c) => c.json(await listDeliveries(core, c.get('actor'), c.req.valid('param').id, c.req.valid('query')), 200),
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/webhooks/{id}/deliveries/{messageId}/resend',
        tags,
        operationId: 'resendWebhookDelivery',
        summary: 'Send a failed message again, from the start of the retry schedule (admin)',
        description: '404 `DELIVERY_NOT_FOUND` for an unknown message; 409 `DELIVERY_NOT_FAILED` unless the message failed.',
        security: bearer,
        request: { params: MessageParam },
        responses: {
          202: jsonResponse(DeliverySchema, 'Queued again'),
          ...errors('post', ...resendDeliveryRefusals.codes),
        },
      }),
      (c) => {
        const { id, messageId } = c.req.valid('param');
        return respondOnceMultiStep(c, core, 202, () => resendDelivery(core, c.get('actor'), id, messageId));
      },
    );
}
