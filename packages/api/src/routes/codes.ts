import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import { generateCodes, uploadCodes, type CoreContext } from '@coupons/core';
import type { AppEnv } from '../env.ts';
import { bearer, errors, jsonBody, jsonResponse } from '../openapi.ts';
import { respondOnceMultiStep } from '../respond.ts';
import { GenerateCodesSchema, GenerateResultSchema, UploadCodesSchema, UploadResultSchema } from '../schemas.ts';

const tags = ['Codes'];

export function codeRoutes(core: CoreContext) {
  const app = new OpenAPIHono<AppEnv>();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/coupons/codes',
      tags,
      operationId: 'uploadCodes',
      summary: 'Upload up to 5,000 codes to a book (admin)',
      description: 'Inserts what is new; never overwrites or moves an existing code. Larger loads go through the CLI.',
      security: bearer,
      request: jsonBody(UploadCodesSchema),
      responses: { 200: jsonResponse(UploadResultSchema, 'What was inserted, what already existed, what was invalid'), ...errors(404, 413) },
    }),
    (c) => respondOnceMultiStep(c, core, 200, () => uploadCodes(core, c.get('actor'), c.req.valid('json'))),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/coupons/codes/generate',
      tags,
      operationId: 'generateCodes',
      summary: 'Generate codes from a pattern (admin)',
      description: '`#` digit, `?` letter, `*` letter or digit, anything else literal; no look-alike characters (0/O, 1/I/L).',
      security: bearer,
      request: jsonBody(GenerateCodesSchema),
      responses: { 201: jsonResponse(GenerateResultSchema, 'The generated codes'), ...errors(404) },
    }),
    (c) => respondOnceMultiStep(c, core, 201, () => generateCodes(core, c.get('actor'), c.req.valid('json'))),
  );

  return app;
}
