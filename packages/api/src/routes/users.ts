import { OpenAPIHono } from '@hono/zod-openapi';
import { listUserCoupons, type CoreContext } from '@coupons/core';
import type { AppEnv } from '../env.ts';
import { apiRoute, bearer, errors, jsonResponse } from '../openapi.ts';
import { UserCouponsQuery, UserCouponsSchema, UserParam } from '../schemas.ts';

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
    );
}
