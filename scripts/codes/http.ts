/**
 * Every HTTP call the codes CLI makes, and nothing else: the operations it needs, through
 * the typed client (packages/client), which retries network errors, 429 and 502-504 with backoff
 * that honours Retry-After, under the same Idempotency-Key. Commands import these operations,
 * never fetch.
 */
import { CouponApiError, createCouponClient, unwrap, type CouponClientOptions, type Success } from '@coupons/client';

/** An answer the CLI cannot retry past (4xx, or retries exhausted). `status` 0: no answer at all. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Client = ReturnType<typeof createCouponClient>;
type AnyJob = Success<Awaited<ReturnType<Client['jobs'][':jobId']['$get']>>>;
/** A generation job (GET /jobs/{jobId} also answers erasures, with `kind: 'erasure'`). */
export type Job = Exclude<AnyJob, { kind: 'erasure' }>;
type Generated = Success<Awaited<ReturnType<Client['coupons']['codes']['generate']['$post']>>>;
export type GenerateAnswer = (Extract<Generated, { codes: unknown }> & { status: 201 }) | (Extract<Generated, { jobId: unknown }> & { status: 202 });
export type Book = Success<Awaited<ReturnType<Client['coupons'][':bookId']['$get']>>>;
export type BookCodesPage = Success<Awaited<ReturnType<Client['coupons'][':bookId']['codes']['$get']>>>;
export type GenerateRequest = { bookId: string; count: number; pattern?: string; checkChar?: boolean };

export interface UploadAnswer {
  inserted: number;
  duplicates: string[];
  invalid: { code: string; reason: string }[];
  /** The server answered from its Idempotency-Key record: the work was done by an earlier request. */
  replayed: boolean;
}

/** Ten attempts, each given 120 s to answer: a load of millions of codes rides out a bad minute. */
const RETRY = { limit: 9, timeoutMs: 120_000, maxDelayMs: 30_000 };

export function createCodesApi(base: string, token: string) {
  const client = (onRetry?: (why: string) => void) => createCouponClient(base, { token, retry: { ...RETRY, onRetry } } satisfies CouponClientOptions);
  const plain = client();
  const key = (k: string) => ({ headers: { 'idempotency-key': k } });
  return {
    async uploadCodes(bookId: string, codes: string[], idempotencyKey: string, onRetry?: (why: string) => void): Promise<UploadAnswer> {
      return explained('POST /coupons/codes', async () => {
        const res = await client(onRetry).coupons.codes.$post({ json: { bookId, codes } }, key(idempotencyKey));
        return { ...(await unwrap(res)), replayed: res.headers.get('idempotent-replayed') === 'true' };
      });
    },
    async generateCodes(body: GenerateRequest, idempotencyKey: string): Promise<GenerateAnswer> {
      return explained('POST /coupons/codes/generate', async () => {
        const res = await plain.coupons.codes.generate.$post({ json: body }, key(idempotencyKey));
        const answer = await unwrap(res);
        return ('jobId' in answer ? { ...answer, status: 202 } : { ...answer, status: 201 }) as GenerateAnswer;
      });
    },
    async getJob(jobId: string): Promise<Job> {
      const job = await explained(`GET /jobs/${jobId}`, () => unwrap(plain.jobs[':jobId'].$get({ param: { jobId } })));
      if ('kind' in job) throw new ApiError(0, 'NOT_A_GENERATION_JOB', `Job ${jobId} is an ${job.kind}, not a generation job.`);
      return job;
    },
    async getBook(bookId: string): Promise<Book> {
      return explained(`GET /coupons/${bookId}`, () => unwrap(plain.coupons[':bookId'].$get({ param: { bookId } })));
    },
    async listBookCodes(bookId: string, query: { status?: 'available' | 'assigned' | 'redeemed'; limit: number; cursor?: string | null }, onRetry?: (why: string) => void): Promise<BookCodesPage> {
      const q = { limit: String(query.limit), ...(query.status ? { status: query.status } : {}), ...(query.cursor ? { cursor: query.cursor } : {}) };
      return explained(`GET /coupons/${bookId}/codes`, () => unwrap(client(onRetry).coupons[':bookId'].codes.$get({ param: { bookId }, query: q })));
    },
  };
}
export type CodesApi = ReturnType<typeof createCodesApi>;

/**
 * One GET /health, no retries: an API that does not answer at all (a wrong address or port, a
 * server not started) is said at once, in one line, rather than after minutes of retries that
 * suit a server briefly gone in the middle of a run.
 */
export async function assertReachable(base: string): Promise<void> {
  const client = createCouponClient(base, { retry: { limit: 0, timeoutMs: 10_000 } });
  try {
    await client.health.$get();
  } catch (e) {
    // fetch's own error says "fetch failed"; the system's reason (ECONNREFUSED, ENOTFOUND) is further down its causes.
    let code: string | undefined;
    for (let c: any = e; c && !code; c = c.cause) code = typeof c.code === 'string' ? c.code : undefined;
    const why = code === 'ECONNREFUSED' ? 'connection refused' : (code ?? (e as Error).message);
    throw new ApiError(0, 'UNREACHABLE', `cannot reach the API at ${base} (${why}); is it running? COUPONS_API or --api say where it is`);
  }
}

/** The client's errors as the CLI reports them: what was asked, and what came back (or did not). */
async function explained<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (e instanceof CouponApiError) throw new ApiError(e.status, e.code, `${what}: ${e.message}`);
    throw new ApiError(0, 'NETWORK', `${what}: ${(e as Error).message}`);
  }
}
