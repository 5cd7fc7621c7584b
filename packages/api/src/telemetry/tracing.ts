import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { loadConfig, type CoreContext } from '@coupons/core';
import { createCoreContext, sstLinks, withLinkedResources } from '../runtime.ts';
import { SERVICE_NAME } from './telemetry.ts';


/**
 * Powertools Tracer (X-Ray), loaded only where tracing is on (TRACING=true, set by infra/ on
 * deployed functions with active tracing): a local process or a test never loads the X-Ray SDK,
 * and the bundle keeps it in a chunk of its own. Powertools itself turns off outside Lambda.
 */
export async function loadTracer(enabled: boolean): Promise<Tracer | undefined> {
  if (!enabled) return undefined;
  const { Tracer } = await import('@aws-lambda-powertools/tracer');
  // HTTP capture off: the SDK clients are captured one by one (their calls are what the trace is
  // for), and webhook requests are not traced into receivers' systems.
  return new Tracer({ serviceName: SERVICE_NAME, captureHTTPsRequests: false });
}

/**
 * A Lambda's core context with its DynamoDB client traced when tracing is on: every GetItem,
 * Query and TransactWriteItems is a subsegment of the invocation's trace.
 */
export async function createTracedCoreContext(env: Record<string, string | undefined> = process.env): Promise<{ core: CoreContext; tracer?: Tracer }> {
  const links = sstLinks();
  const config = loadConfig(withLinkedResources(env, links));
  const tracer = await loadTracer(config.TRACING);
  const core = createCoreContext(env, links, { config, instrument: tracer ? (client: DynamoDBClient) => void tracer.captureAWSv3Client(client) : undefined });
  return { core, tracer };
}
