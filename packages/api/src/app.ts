import { OpenAPIHono } from '@hono/zod-openapi';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { AppError } from '@coupons/core';
import type { CoreContext } from '@coupons/core';
import type { AppEnv } from './env.ts';
import { authenticate, type AuthOptions } from './middleware/auth/index.ts';
import { apiKeyAuthenticator } from './middleware/auth/api-key.ts';
import { idempotencyKey } from './middleware/idempotency/index.ts';
import { rateLimit } from './middleware/rate-limit/index.ts';
import { refuseErasedUsers } from './middleware/erased-user/index.ts';
import { requestLog } from './middleware/request-log/index.ts';
import { responsePolicy } from './middleware/response-policy/index.ts';
import { annotateScope } from './telemetry/log.ts';
import { traceRequests, type Tracer } from './telemetry/trace-segments.ts';
import { errorResponse } from './error-response.ts';
import { registerProtocolComponents } from './openapi.ts';
import { bookRoutes } from './routes/books.ts';
import { bookCodeRoutes } from './routes/book-codes.ts';
import { activityRoutes } from './routes/activity.ts';
import { codeRoutes } from './routes/codes.ts';
import { jobRoutes } from './routes/jobs.ts';
import { lifecycleRoutes } from './routes/lifecycle.ts';
import { userRoutes } from './routes/users.ts';
import { redemptionRoutes } from './routes/redemptions.ts';
import { codeDetailsRoutes } from './routes/code-details.ts';
import { docsRoutes } from './routes/docs.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { apiKeyRoutes } from './routes/api-keys.ts';

/** What the app is built from: the core's context (its log and metrics too) and how callers are authenticated. */
export interface AppDeps {
  core: CoreContext;
  auth: AuthOptions;
  /** Origins of browser apps allowed to call the API; none by default. */
  corsOrigins?: string[];
  /** X-Ray tracing of each request (deployed stages: telemetry/tracing.ts). */
  tracer?: Tracer;
}

export const MAX_BODY_BYTES = 1024 * 1024;

const PUBLIC_PATHS = new Set(['/health', '/openapi.json', '/docs', '/favicon.ico']);
const isPublic = (path: string) => PUBLIC_PATHS.has(path) || path.startsWith('/docs/assets/');

/** The whole API as one Hono app: the same object serves Lambda and Node. */
export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>({
    // Validation failures become the documented error, field by field.
    defaultHook: (result) => {
      if (!result.success) {
        const details = result.error.issues.map((i) => ({ field: i.path.join('.') || '(body)', reason: i.message }));
        throw new AppError('VALIDATION_FAILED', `Invalid ${details.map((d) => d.field).join(', ')}.`, { details });
      }
    },
  });

  app.use(requestId());
  app.use(requestLog(deps.core));
  if (deps.tracer) app.use(traceRequests(deps.tracer));
  app.use(responsePolicy());
  // The CSP is responsePolicy's (the docs page has its own); frames: none, of any answer.
  app.use(secureHeaders({ xFrameOptions: 'DENY', contentSecurityPolicy: undefined }));
  if (deps.corsOrigins?.length) {
    app.use(
      cors({
        origin: deps.corsOrigins,
        allowMethods: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
        // If-Match and ETag: a browser app (the console) edits books optimistically from its own origin.
        allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id', 'If-Match'],
        exposeHeaders: ['X-Request-Id', 'Retry-After', 'Idempotent-Replayed', 'ETag'],
        maxAge: 600,
      }),
    );
  }
  app.use(
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new AppError('PAYLOAD_TOO_LARGE', `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
      },
    }),
  );

  // Chained, so the app's type carries every route for `hc<AppType>`.
  const publicRoutes = app.get('/health', (c) => c.json({ status: 'ok' }, 200)).route('/', docsRoutes());

  const auth = authenticate(deps.auth, apiKeyAuthenticator(deps.core));
  app.use('*', async (c, next) => (isPublic(c.req.path) ? next() : auth(c, next)));
  // Every line logged from here on in the request names its tenant and caller.
  app.use('*', async (c, next) => {
    const actor = c.get('actor');
    if (actor) annotateScope({ tenant: actor.tenant, sub: actor.sub });
    await next();
  });
  app.use('*', refuseErasedUsers(deps.core));
  app.use('*', rateLimit(deps.core));
  app.use('*', idempotencyKey());

  const api = publicRoutes
    .route('/', codeDetailsRoutes(deps.core))
    .route('/', bookRoutes(deps.core))
    .route('/', codeRoutes(deps.core))
    .route('/', jobRoutes(deps.core))
    .route('/', lifecycleRoutes(deps.core))
    .route('/', userRoutes(deps.core))
    .route('/', redemptionRoutes(deps.core))
    // After the code routes: `/coupons/codes/{code}` must win for a code named CODES (a book id is never `codes`).
    .route('/', bookCodeRoutes(deps.core))
    .route('/', activityRoutes(deps.core))
    .route('/', webhookRoutes(deps.core))
    .route('/', apiKeyRoutes(deps.core));

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'A JWT from the identity provider (`sub`, `tenant`, `role`, `exp`), or an API key (`cbk_…`, from `POST /api-keys`).',
  });
  registerProtocolComponents(app.openAPIRegistry);
  // Public and the same for everyone, but it changes with each deploy: a cache asks again every time.
  app.use('/openapi.json', async (c, next) => {
    await next();
    c.res.headers.set('Cache-Control', 'no-cache');
  });
  app.doc31('/openapi.json', (c) => ({
    openapi: '3.1.0',
    info: {
      title: 'Coupon Book Service',
      version: '1.0.0',
      description:
        'Coupon books, codes, and their lifecycle: assign, lock, redeem. Errors are always `{ "error": { "code", "message", "details"? } }`.',
    },
    // An absolute URL a generated client can use as its base: the origin this document was read
    // from (`npm start`: http://localhost:3000; a stage: its API URL). docs/client.md says why.
    servers: [{ url: new URL(c.req.url).origin, description: 'This service, where this document was read from' }],
  }));

  app.notFound((c) => errorResponse(c, new AppError('ROUTE_NOT_FOUND', `No route ${c.req.method} ${c.req.path}.`)));
  app.onError((e, c) => errorResponse(c, e));
  return api;
}

export type App = ReturnType<typeof createApp>;
/** The whole API's routes, requests and responses: `hc<AppType>(url)` is a typed client. */
export type AppType = App;
