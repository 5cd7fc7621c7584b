import { z } from 'zod';

const ConfigSchema = z.object({
  TABLE_NAME: z.string().min(3).default('coupons'),
  /** Set locally and in tests (DynamoDB Local); absent on AWS. */
  DYNAMODB_ENDPOINT: z.url().optional(),
  AWS_REGION: z.string().default('us-east-1'),
  /** Pool shards for new books: more shards spread a hot book over more GSI partitions. */
  POOL_SHARDS: z.coerce.number().int().min(1).max(64).default(16),
  /** Attempts a random claim makes after losing races before answering 503. */
  CLAIM_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(30),
});

export type Config = z.infer<typeof ConfigSchema>;

/** Parsed once, at the edge of the process; everything below receives a Config. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  return ConfigSchema.parse(env);
}
