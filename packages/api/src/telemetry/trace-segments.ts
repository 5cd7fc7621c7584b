import type { MiddlewareHandler } from 'hono';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { AppEnv } from '../env.ts';

export type { Tracer };

// Subsegments of a Lambda invocation's X-Ray trace. Only types come from Powertools here: the
// tracer itself is loaded where tracing is on (tracing.ts), and without one these run the work as is.

/** Runs `work` in a subsegment named `name` of the invocation's segment, annotated by `annotate` afterwards. */
export async function inSubsegment<T>(tracer: Tracer | undefined, name: string, work: () => Promise<T>, annotate?: (put: (key: string, value: string | number | boolean) => void) => void): Promise<T> {
  const parent = tracer?.getSegment();
  if (!tracer || !parent) return work();
  const sub = parent.addNewSubsegment(name);
  tracer.setSegment(sub);
  try {
    return await work();
  } catch (e) {
    sub.addError(e as Error);
    throw e;
  } finally {
    annotate?.((k, v) => sub.addAnnotation(k, v));
    sub.close();
    tracer.setSegment(parent);
  }
}

/** A Lambda handler traced as one subsegment per invocation, with the cold start and the service as annotations. */
export function tracedHandler<E, C, R>(tracer: () => Tracer | undefined, name: string, handler: (event: E, context: C) => Promise<R>) {
  return (event: E, context: C) => {
    const t = tracer();
    return inSubsegment(t, `## ${name}`, () => {
      t?.annotateColdStart();
      t?.addServiceNameAnnotation();
      return handler(event, context);
    });
  };
}

/** Each request a subsegment named by its method and path, annotated with its route, status and tenant. */
export function traceRequests(tracer: Tracer | undefined): MiddlewareHandler<AppEnv> {
  return (c, next) =>
    inSubsegment(tracer, `${c.req.method} ${c.req.path}`.slice(0, 200), () => next(), (put) => {
      put('status', c.res.status);
      const actor = c.get('actor');
      if (actor) put('tenant', actor.tenant);
      const code = c.get('errorCode');
      if (code) put('errorCode', code);
    });
}
