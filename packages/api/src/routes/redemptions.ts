import { OpenAPIHono } from '@hono/zod-openapi';
import { rollbackRedemption, rollbackRedemptionRefusals, type CoreContext } from '@coupons/core';
import type { AppEnv } from '../env.ts';
import { apiRoute, bearer, errors, jsonBody, jsonResponse } from '../openapi.ts';
import { respondOnce } from '../respond.ts';
import { RedemptionIdParam, RollbackResultSchema, RollbackSchema } from '../schemas.ts';

const rollback = apiRoute({
  method: 'post',
  path: '/redemptions/{redemptionId}/rollback',
  tags: ['Lifecycle'],
  operationId: 'rollbackRedemption',
  summary: 'Give a redemption back (admin, service)',
  description:
    "The order was cancelled or refunded: the code's `redemptionCount` and the book's `stats.redeemed` go down by one, and the " +
    'redemption record stays, marked rolled back (who, when, why). A second rollback of the same redemption is 409 ' +
    '`REDEMPTION_ALREADY_ROLLED_BACK`; an unknown redemption, or another tenant\'s, is 404 `REDEMPTION_NOT_FOUND`.',
  security: bearer,
  request: { params: RedemptionIdParam, ...jsonBody(RollbackSchema, false) },
  responses: { 200: jsonResponse(RollbackResultSchema, 'The code after the rollback'), ...errors('post', ...rollbackRedemptionRefusals.codes) },
});

export const redemptionRoutes = (core: CoreContext) =>
  new OpenAPIHono<AppEnv>().openapi(rollback, (c) =>
    respondOnce(
      c,
      core,
      200,
      (opts) => rollbackRedemption(core, c.get('actor'), c.req.valid('param').redemptionId, c.req.valid('json') ?? {}, opts),
      rollbackRedemptionRefusals,
    ),
  );
