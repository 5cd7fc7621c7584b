import { OpenAPIHono } from '@hono/zod-openapi';
import { eraseUser, eraseUserRefusals, listUserCoupons, type CoreContext } from '@coupons/core';
import type { AppEnv } from '../env.ts';
import { apiRoute, bearer, errors, jsonResponse } from '../openapi.ts';
import { ErasureAcceptedSchema, UserCouponsQuery, UserCouponsSchema, UserParam } from '../schemas.ts';

export function userRoutes(core: CoreContext) {
  return new OpenAPIHono<AppEnv>()
    .openapi(
      apiRoute({
        method: 'get',
        path: '/users/{userId}/coupons',
        tags: ['Users'],
        operationId: 'listUserCoupons',
        summary: "A user's codes with their status",
        description: 'Admin, service, or that user. Filter by `bookId` and `status`; paginate with `limit` and `cursor`.',
        security: bearer,
        request: { params: UserParam, query: UserCouponsQuery },
        responses: { 200: jsonResponse(UserCouponsSchema, 'A page of codes'), ...errors('get') },
      }),
      async (c) => c.json(await listUserCoupons(core, c.get('actor'), c.req.valid('param').userId, c.req.valid('query')), 200),
    )
    .openapi(
      apiRoute({
        method: 'delete',
        path: '/users/{userId}',
        tags: ['Users'],
        operationId: 'eraseUser',
        summary: 'Erase a user (admin)',
        description:
          "Replaces the user's id, in every item of the tenant that names it (codes, holdings, redemptions, history, idempotency records " +
          'and their stored answers, rate-limit records, webhook delivery payloads), by one pseudonym that cannot be reversed, so counts, caps ' +
          'and audit trails still hold. From this call on, requests acting for the id are refused (403). Answers 202 with a job: follow it ' +
          'with `GET /jobs/{jobId}`. Erasing again, or an id that never existed, answers 202 with a job that succeeds. ' +
          'At most 1,000 erasures per tenant per UTC day (each reads the whole table), then 409 `TENANT_LIMIT_REACHED`.',
        security: bearer,
        request: { params: UserParam },
        responses: { 202: jsonResponse(ErasureAcceptedSchema, 'The erasure job is queued'), ...errors('delete', ...eraseUserRefusals.codes) },
      }),
      async (c) => c.json(await eraseUser(core, c.get('actor'), c.req.valid('param').userId), 202),
    );
}
