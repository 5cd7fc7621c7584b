import { OpenAPIHono } from '@hono/zod-openapi';
import { enqueueGeneration, generateCodes, MAX_SYNC_GENERATION, uploadCodes, type CoreContext } from '@coupons/core';
import type { AppEnv } from '../env.ts';
import { apiRoute, bearer, errors, jsonBody, jsonResponse } from '../openapi.ts';
import { respondOnceMultiStep } from '../respond.ts';
import { GenerateAcceptedSchema, GenerateCodesSchema, GenerateResultSchema, UploadCodesSchema, UploadResultSchema } from '../schemas.ts';

const tags = ['Codes'];

export function codeRoutes(core: CoreContext) {
  return new OpenAPIHono<AppEnv>()
    .openapi(
      apiRoute({
        method: 'post',
        path: '/coupons/codes',
        tags,
        operationId: 'uploadCodes',
        summary: 'Upload up to 5,000 codes to a book (admin)',
        description: 'Inserts what is new; never overwrites or moves an existing code. Larger loads go through the CLI.',
        security: bearer,
        request: jsonBody(UploadCodesSchema),
        responses: { 200: jsonResponse(UploadResultSchema, 'What was inserted, what already existed, what was invalid'), ...errors('post', 'BOOK_NOT_FOUND') },
      }),
      (c) => respondOnceMultiStep(c, core, 200, () => uploadCodes(core, c.get('actor'), c.req.valid('json'))),
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/coupons/codes/generate',
        tags,
        operationId: 'generateCodes',
        summary: 'Generate codes from a pattern (admin)',
        description:
          '`#` digit, `?` letter, `*` letter or digit, anything else literal; no look-alike characters (0/O, 1/I/L). ' +
          'Up to 10,000 codes are made in the request (201); more, up to 10,000,000, run as a job: 202 `{ jobId }`, progress at `GET /jobs/{jobId}`. ' +
          'A count above 5% of the pattern\'s space (counting the codes the book holds) is refused with 400.',
        security: bearer,
        request: jsonBody(GenerateCodesSchema),
        responses: {
          201: jsonResponse(GenerateResultSchema, 'The generated codes'),
          202: jsonResponse(GenerateAcceptedSchema, 'A job was queued; poll GET /jobs/{jobId}'),
          ...errors('post', 'BOOK_NOT_FOUND'),
        },
      }),
      (c) => {
        const body = c.req.valid('json');
        const actor = c.get('actor');
        // The status follows from the count alone, so a replay under the same Idempotency-Key answers alike.
        return body.count > MAX_SYNC_GENERATION
          ? respondOnceMultiStep(c, core, 202, () => enqueueGeneration(core, actor, body))
          : respondOnceMultiStep(c, core, 201, () => generateCodes(core, actor, body));
      },
    );
}
