import { OpenAPIHono } from '@hono/zod-openapi';
import { MAX_ACTIVITY_BUCKETS, readActivity, type CoreContext } from '@coupons/core';
import type { AppEnv } from '../env.ts';
import { apiRoute, bearer, errors, jsonResponse } from '../openapi.ts';
import { BookIdParam } from '../schemas.ts';
import { ActivityQuery, ActivitySchema } from '../activity-schemas.ts';

const bookActivityRoute = apiRoute({
  method: 'get',
  path: '/coupons/{bookId}/activity',
  tags: ['Books'],
  operationId: 'getBookActivity',
  summary: "A book's activity over time: assigned, locked, unlocked, redeemed, rolled back per bucket (admin)",
  description: `Counted from the codes' histories as the change stream delivers them (a few seconds behind), each change exactly once. Buckets of \`interval\` aligned in UTC, the first holding \`from\`, \`to\` exclusive; at most ${MAX_ACTIVITY_BUCKETS.toLocaleString('en-US')}, more is 400 VALIDATION_FAILED. A bounded number of reads whatever the book's size.`,
  security: bearer,
  request: { params: BookIdParam, query: ActivityQuery },
  responses: { 200: jsonResponse(ActivitySchema, 'Counts per bucket, oldest first'), ...errors('get', 'BOOK_NOT_FOUND') },
});

export const activityRoutes = (core: CoreContext) =>
  new OpenAPIHono<AppEnv>().openapi(bookActivityRoute, async (c) =>
    c.json(await readActivity(core, c.get('actor'), c.req.valid('param').bookId, c.req.valid('query')), 200),
  );
