import { z } from 'zod';
import { LOG_LEVELS } from './telemetry/log.ts';

/** How long an instance trusts its copy of an API key's record (access/api-key-verifier.ts). */
export const DEFAULT_API_KEY_CACHE_MS = 5000;
/** Revocation must reach every instance within 10 s: the copy's age plus one read stays under it. */
export const MAX_API_KEY_CACHE_MS = 9000;

const ConfigSchema = z.object({
  TABLE_NAME: z.string().min(3).default('coupons'),
  /** Set locally and in tests (DynamoDB Local); absent on AWS. */
  DYNAMODB_ENDPOINT: z.url().optional(),
  AWS_REGION: z.string().default('us-east-1'),
  /** Attempts a random claim makes after losing races before answering 503. */
  CLAIM_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(30),
  /** SQS queue of generation jobs (set on AWS by infra/jobs.ts); absent locally, where jobs run in-process. */
  QUEUE_URL: z.url().optional(),
  /** Codes per job transaction: at most 98, since one stats shard and the job lane share the 100 items. */
  JOB_CHUNK_SIZE: z.coerce.number().int().min(1).max(98).default(98),
  /** Lanes of a job: chunks committed side by side, each lane with its own exact progress. */
  JOB_LANES: z.coerce.number().int().min(1).max(32).default(8),
  /** How long a runner's claim on a job lasts without a heartbeat; a crashed runner's job is resumable after it. */
  JOB_LEASE_SECONDS: z.coerce.number().int().min(1).max(900).default(30),
  /** Claims, locks, unlocks and redeems one caller may make per minute, per instance (in memory); 0 switches the limit off. */
  RATE_LIMIT_CALLER_PER_MINUTE: z.coerce.number().int().min(0).default(120),
  /** The same for a whole tenant, per second and per instance: the default takes a 20,000/s sale on one process. */
  RATE_LIMIT_TENANT_PER_SECOND: z.coerce.number().int().min(0).default(25_000),
  /** CODE_NOT_FOUND answers one caller may get per 10 minutes before it is refused outright (code guessing). */
  RATE_LIMIT_MISSES_PER_10_MINUTES: z.coerce.number().int().min(0).default(20),
  /**
   * Locks a code may take between two redemptions (a claim with a lock is one): bounds how far its
   * holder can grow the code's history by locking and unlocking (docs/security.md#bounds).
   */
  MAX_LOCKS_PER_REDEMPTION: z.coerce.number().int().min(1).max(1000).default(50),
  /** How long an instance uses an API key's record before reading it again: a revocation reaches it within this. */
  API_KEY_CACHE_MS: z.coerce.number().int().min(0).max(MAX_API_KEY_CACHE_MS).default(DEFAULT_API_KEY_CACHE_MS),
  /** Seconds between webhook delivery attempts, comma-separated: the defaults retry for 27.6 hours. */
  WEBHOOK_RETRY_SCHEDULE: z
    .string()
    .default('5,30,300,1800,7200,18000,36000,36000')
    .transform((s) => s.split(',').map((x) => Number(x.trim())))
    .pipe(z.array(z.number().positive().max(43_200)).min(1).max(20)),
  /** How long one delivery attempt waits for the receiver's answer. */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(5000),
  /** Deliver to loopback addresses (127.0.0.0/8, ::1): `npm start` and tests; never on a deployed stage. */
  WEBHOOK_ALLOW_LOOPBACK: z.stringbool().default(false),
  /** Partition keys the delivery log and the due index of one endpoint are spread over. */
  WEBHOOK_DELIVERY_SHARDS: z.coerce.number().int().min(1).max(256).default(32),
  /** How stale an endpoint list a retry may use; new events always use one read after they committed. */
  WEBHOOK_ENDPOINT_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  /** Slack on the stream's commit times (rounded to the second on AWS) when deciding an endpoint list is newer than an event. */
  WEBHOOK_COMMIT_SLACK_MS: z.coerce.number().int().min(0).max(10_000).default(1000),
  /** How often the in-process dispatcher looks for retries that are due. */
  WEBHOOK_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  /** In-process dispatcher: an endpoint whose request is out this long is slow, and a batch stops waiting for it. */
  WEBHOOK_SLOW_ENDPOINT_MS: z.coerce.number().int().min(100).max(60_000).default(1000),
  /** Days a delivery record is kept (TTL) after its last change. */
  WEBHOOK_LOG_DAYS: z.coerce.number().int().min(2).max(365).default(30),
  /** SQS FIFO queue of webhook deliveries (AWS, infra/webhooks.ts); absent locally, where delivery is in-process. */
  WEBHOOK_QUEUE_URL: z.url().optional(),
  /** The lowest level logged: debug, info, warn, error or silent. */
  LOG_LEVEL: z
    .string()
    .default('info')
    .transform((s) => s.trim().toLowerCase())
    .pipe(z.enum(LOG_LEVELS)),
  /** The stage the metrics are dimensioned by (a deployed function reads it from SST's App). */
  STAGE: z.string().min(1).max(100).default('local'),
  /** Traces to X-Ray (Powertools Tracer): set by infra/ on deployed functions, off locally. */
  TRACING: z.stringbool().default(false),
  /** Outside Lambda (npm start), how often the metrics are written as EMF lines; Lambda writes them after each invocation. */
  METRICS_FLUSH_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  /** `npm start` prints a one-line summary of the metrics this often; 0 turns it off. */
  METRICS_SUMMARY_SECONDS: z.coerce.number().int().min(0).max(3600).default(0),
  /**
   * The key of the HMAC that turns an erased user's id into their pseudonym (erased-users.ts). Set it
   * on every deployed stage and never change it: a new key gives a re-erased id a second pseudonym.
   */
  ERASURE_SECRET: z.string().min(16).default('local-erasure-secret-not-for-production'),
  /**
   * How long an erasure waits, after marking the user erased, before it reads the table: longer than a
   * request, an instance's memory of "not erased" (ERASED_CACHE_MS) and the change stream's usual lag,
   * so that every write that did not see the mark has committed before the job looks (docs/erasure.md).
   */
  ERASURE_SETTLE_MS: z.coerce.number().int().min(0).max(900_000).default(60_000),
});

export type Config = z.infer<typeof ConfigSchema>;

/**
 * Parsed once, at the edge of the process; everything below receives a Config. Without zod's JIT:
 * compiling a parser for a schema parsed once per process costs a cold start more than it saves.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  return ConfigSchema.parse(env, { jitless: true });
}
