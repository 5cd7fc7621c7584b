import { OpenAPIHono, z } from '@hono/zod-openapi';
import { getCodeDetails, type CoreContext } from '@coupons/core';
import type { AppEnv } from '../env.ts';
import { apiRoute, bearer, errors, jsonResponse } from '../openapi.ts';
import { CodeDetailsQuery, CodeDetailsSchema, CodeParam } from '../schemas.ts';

const details = apiRoute({
  method: 'get',
  path: '/coupons/codes/{code}',
  tags: ['Codes'],
  operationId: 'getCode',
  summary: 'One code with its history, a page at a time (admin, service)',
  description:
    'The code view plus `history`: its changes (assigned, locked, unlocked, redeemed, rolledBack), oldest first, with who made it ' +
    '(`by`, the caller\'s `sub`), a page at a time (`limit`, `cursor`; `nextCursor` for the next page). An unassigned code reads ' +
    '`status: "available"` with an empty history. The history is built from the ' +
    "table's change stream and may trail the code's last write by about a second.",
  security: bearer,
  request: { params: z.object({ code: CodeParam }), query: CodeDetailsQuery },
  responses: { 200: jsonResponse(CodeDetailsSchema, 'The code and its history'), ...errors('get', 'CODE_NOT_FOUND') },
});

export const codeDetailsRoutes = (core: CoreContext) =>
  new OpenAPIHono<AppEnv>().openapi(details, async (c) =>
    c.json(await getCodeDetails(core, c.get('actor'), c.req.valid('param').code, c.req.valid('query')), 200),
  );
