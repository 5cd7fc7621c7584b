import { handle } from 'hono/aws-lambda';
import { createApp } from './app.ts';
import { createCoreContext, readAuthConfig, readCorsOrigins } from './runtime.ts';

// Built once per Lambda instance, reused across invocations.
const app = createApp({ core: createCoreContext(), auth: readAuthConfig(), corsOrigins: readCorsOrigins() });

export const handler = handle(app);
