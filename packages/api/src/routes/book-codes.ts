import { OpenAPIHono } from '@hono/zod-openapi';
import { listBookCodes, type CoreContext } from '@coupons/core';
import type { AppEnv } from '../env.ts';
import { apiRoute, bearer, errors, jsonResponse } from '../openapi.ts';
import { BookCodesQuery, BookCodesSchema, BookIdParam } from '../schemas.ts';

const listBookCodesRoute = apiRoute({
  method: 'get',
  path: '/coupons/{bookId}/codes',
  tags: ['Books'],
  operationId: 'listBookCodes',
  summary: "A book's codes with state, holder and redemptions (admin)",
  description:
    'Shard by shard, from an index partitioned by the book shard (never a scan). Filter by `status`; paginate with `limit` (1 to 1,000) and `cursor`. `npm run codes -- export` streams all of them as CSV.',
  security: bearer,
  request: { params: BookIdParam, query: BookCodesQuery },
  responses: { 200: jsonResponse(BookCodesSchema, 'A page of codes'), ...errors('get', 'BOOK_NOT_FOUND') },
});

export const bookCodeRoutes = (core: CoreContext) =>
  new OpenAPIHono<AppEnv>().openapi(listBookCodesRoute, async (c) =>
    c.json(await listBookCodes(core, c.get('actor'), c.req.valid('param').bookId, c.req.valid('query')), 200),
  );
