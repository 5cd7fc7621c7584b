import { z } from 'zod';

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
});

export type Config = z.infer<typeof ConfigSchema>;

/** Parsed once, at the edge of the process; everything below receives a Config. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  return ConfigSchema.parse(env);
}
