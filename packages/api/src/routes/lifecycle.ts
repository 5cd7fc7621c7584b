import { OpenAPIHono, z } from '@hono/zod-openapi';
import {
  assignNamedCode,
  assignNamedCodeRefusals,
  assignRandomCode,
  assignRandomCodeRefusals,
  lockCode,
  lockCodeRefusals,
  redeemCode,
  redeemCodeRefusals,
  unlockCode,
  unlockCodeRefusals,
  type CoreContext,
} from '@coupons/core';
import type { AppEnv } from '../env.ts';
import { apiRoute, bearer, errors, jsonBody, jsonResponse } from '../openapi.ts';
import { respondOnce } from '../respond.ts';
import {
  AssignNamedSchema,
  AssignRandomSchema,
  AssignResultSchema,
  CodeParam,
  CodeViewSchema,
  LockResultSchema,
  LockSchema,
  RedeemResultSchema,
  RedeemSchema,
  UnlockSchema,
} from '../schemas.ts';

const tags = ['Lifecycle'];
const codeParams = { params: z.object({ code: CodeParam }) };

export function lifecycleRoutes(core: CoreContext) {
  return new OpenAPIHono<AppEnv>()
    .openapi(
      apiRoute({
        method: 'post',
        path: '/coupons/assign',
        tags,
        operationId: 'assignRandomCode',
        summary: 'Assign a random available code of a book',
        description: 'Admin, service (naming `userId`) or the user itself. `"lock": true` claims and locks in one atomic step.',
        security: bearer,
        request: jsonBody(AssignRandomSchema),
        responses: { 201: jsonResponse(AssignResultSchema, 'The assigned code'), ...errors('post', ...assignRandomCodeRefusals.codes) },
      }),
      (c) => respondOnce(c, core, 201, (opts) => assignRandomCode(core, c.get('actor'), c.req.valid('json'), opts), assignRandomCodeRefusals),
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/coupons/assign/{code}',
        tags,
        operationId: 'assignNamedCode',
        summary: 'Assign a named code (admin, service)',
        security: bearer,
        request: { ...codeParams, ...jsonBody(AssignNamedSchema) },
        responses: { 201: jsonResponse(AssignResultSchema, 'The assigned code'), ...errors('post', ...assignNamedCodeRefusals.codes) },
      }),
      (c) => respondOnce(c, core, 201, (opts) => assignNamedCode(core, c.get('actor'), c.req.valid('param').code, c.req.valid('json'), opts), assignNamedCodeRefusals),
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/coupons/lock/{code}',
        tags,
        operationId: 'lockCode',
        summary: 'Lock a held code for a redemption attempt',
        description: 'The lock expires by itself after `ttlSeconds` (default: the book\'s `lockTtlSeconds`).',
        security: bearer,
        request: { ...codeParams, ...jsonBody(LockSchema, false) },
        responses: { 200: jsonResponse(LockResultSchema, 'The lock'), ...errors('post', ...lockCodeRefusals.codes) },
      }),
      (c) => respondOnce(c, core, 200, (opts) => lockCode(core, c.get('actor'), c.req.valid('param').code, c.req.valid('json') ?? {}, opts), lockCodeRefusals),
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/coupons/unlock/{code}',
        tags,
        operationId: 'unlockCode',
        summary: 'Release a lock (the payment failed)',
        security: bearer,
        request: { ...codeParams, ...jsonBody(UnlockSchema, false) },
        responses: { 200: jsonResponse(CodeViewSchema, 'The code'), ...errors('post', ...unlockCodeRefusals.codes) },
      }),
      (c) => respondOnce(c, core, 200, (opts) => unlockCode(core, c.get('actor'), c.req.valid('param').code, c.req.valid('json') ?? {}, opts), unlockCodeRefusals),
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/coupons/redeem/{code}',
        tags,
        operationId: 'redeemCode',
        summary: 'Redeem a held code (permanent)',
        description: 'Under an unexpired lock the redeem must present that `lockId`; an unlocked code may be redeemed in one step.',
        security: bearer,
        request: { ...codeParams, ...jsonBody(RedeemSchema, false) },
        responses: { 200: jsonResponse(RedeemResultSchema, 'The redeemed code and its redemption id'), ...errors('post', ...redeemCodeRefusals.codes) },
      }),
      (c) => respondOnce(c, core, 200, (opts) => redeemCode(core, c.get('actor'), c.req.valid('param').code, c.req.valid('json') ?? {}, opts), redeemCodeRefusals),
    );
}
