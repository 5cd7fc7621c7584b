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
        summary: "Progress of a job: code generation or a user's erasure (admin)",
        description:
          'A generation job: `generated` is exact, each chunk of codes commits together with its progress. An erasure (`kind: erasure`, DELETE /users/{userId}): ' +
          '`scanned` and `erased` are exact per committed page of its scan. Another tenant\'s job answers 404 `JOB_NOT_FOUND`, as one that does not exist.',
        security: bearer,
        request: { params: JobIdParam },
        responses: { 200: jsonResponse(JobSchema, 'The job'), ...errors('get', 'JOB_NOT_FOUND') },
      }),
      async (c) => c.json(await getJob(core, c.get('actor'), c.req.valid('param').jobId), 200),
    );
}
