import { OpenAPIHono } from '@hono/zod-openapi';
import { getJob, type CoreContext } from '@coupons/core';
import type { AppEnv } from '../env.ts';
import { apiRoute, bearer, errors, jsonResponse } from '../openapi.ts';
import { JobIdParam, JobSchema } from '../schemas.ts';

export function jobRoutes(core: CoreContext) {
  return new OpenAPIHono<AppEnv>()
    .openapi(
      apiRoute({
        method: 'get',
        path: '/jobs/{jobId}',
        tags: ['Codes'],
      operationId: 'getJob',
        summary: 'Progress of a generation job (admin)',
        description:
          '`generated` is exact: each chunk of codes commits together with its progress. Another tenant\'s job answers 404 `JOB_NOT_FOUND`, as one that does not exist.',
        security: bearer,
        request: { params: JobIdParam },
        responses: { 200: jsonResponse(JobSchema, 'The job'), ...errors('get', 'JOB_NOT_FOUND') },
      }),
      async (c) => c.json(await getJob(core, c.get('actor'), c.req.valid('param').jobId), 200),
    );
}
