import { randomInt } from 'node:crypto';
import { createConversions } from 'electrodb';
import type { CoreContext } from '../context.ts';
import type { BookRecord } from '../book/book.ts';
import { randomPoolSlot } from './pool-slot.ts';
import { isKnownEmpty, poolGeneration, rememberEmptyShard } from './empty-pools.ts';

/** An available code a claim may try to take: the transaction's condition decides. */
export interface Candidate {
  code: string;
  shard: number;
  poolSlot: string;
}

/** Codes per pool Query: a keys-only page of 8 is well under 4 KB, so it costs 0.5 RCU like a page of 1. */
export const PICK_LIMIT = 8;

/**
 * How long the codes one pool Query found stay on offer to the instance's
 * next claims of the same shard. Older than that, a code is more likely to
 * have been taken by another instance (a lost race: a cancelled transaction
 * and another pick); the transaction's condition decides either way.
 */
export const PICK_REUSE_MS = 250;

/**
 * One pool Query's codes, shared by the claims of the same shard that wait
 * for a pick while it runs or arrive within PICK_REUSE_MS of its answer.
 * Candidates leave `left` as claims take them.
 */
interface Batch {
  /** The book's upload generation on this instance when the Query was sent (code/empty-pools.ts). */
  generation: number;
  /** When the Query answered; undefined while it runs. */
  settledAt?: number;
  codes: Promise<Candidate[]>;
  left: Candidate[];
}

/**
 * How long an instance remembers the codes it saw leave the pool (its own
 * commits, and lost races: another instance took them). A Query sent before
 * such a commit may answer after it, and its page may be offered for
 * PICK_REUSE_MS more: within this time no claim here tries those codes.
 */
export const TAKEN_MEMORY_MS = 5000;

interface Picker {
  batches: Map<string, Batch>;
  /** Codes this instance's claims are committing right now (settled when the commit is): no other claim here tries them. */
  claiming: Map<string, { settled: Promise<void>; settle: () => void }>;
  /** Codes known to have left the pool, until when to remember it. */
  taken: Map<string, number>;
}

const pickers = new WeakMap<CoreContext, Picker>();

function pickerOf(ctx: CoreContext): Picker {
  let picker = pickers.get(ctx);
  if (!picker) {
    picker = { batches: new Map(), claiming: new Map(), taken: new Map() };
    pickers.set(ctx, picker);
  }
  return picker;
}

/**
 * Up to PICK_LIMIT available codes of one shard, next to a random point of
 * its key space. The page runs from that point toward the larger side of
 * the key space, so it comes back empty only when the shard holds no code on
 * that side (about 2^-k with k codes, against 1/(k+1) always reading
 * upwards); then a second Query reads the other side.
 */
async function queryShard(ctx: CoreContext, book: BookRecord, shard: number): Promise<Candidate[]> {
  const from = randomPoolSlot();
  const upward = from < '8'; // slots are 16 hex digits: below the middle of the key space
  const pool = createConversions(ctx.store.code).byAccessPattern.pool;
  // The pool index projects keys only; the entity reads the code and slot back off them.
  const query = async (where: 'gte' | 'lte' | 'gt' | 'lt', order: 'asc' | 'desc') => {
    const res: any = await ctx.store.code.query
      .pool({ tenant: book.tenant, bookId: book.bookId, shard })
      [where]({ poolSlot: from })
      .go({ limit: PICK_LIMIT, order, data: 'raw', ignoreOwnership: true, originalErr: true });
    return (res.data?.Items ?? []) as Record<string, string>[];
  };
  let items = upward ? await query('gte', 'asc') : await query('lte', 'desc');
  if (!items.length) items = upward ? await query('lt', 'asc') : await query('gt', 'asc');
  return items.map((keys) => {
    const { code, poolSlot } = pool.fromKeys.toComposite(keys as any) as { code: string; poolSlot: string };
    return { code, shard, poolSlot };
  });
}

/** The shard had codes, but each is being committed by another claim here (settling soon) or known taken. */
interface Busy {
  busy: Promise<void>[];
}

/** Takes a random candidate of the batch that no claim here is committing and that is not known taken. */
function takeFrom(ctx: CoreContext, picker: Picker, batch: Batch, tenant: string): Candidate | Busy {
  const now = ctx.now();
  const key = (c: Candidate) => `${tenant}#${c.code}`;
  const usable = batch.left.filter((c) => !picker.claiming.has(key(c)) && !((picker.taken.get(key(c)) ?? 0) > now));
  if (!usable.length) return { busy: batch.left.flatMap((c) => picker.claiming.get(key(c))?.settled ?? []) };
  const taken = usable[randomInt(usable.length)]!;
  batch.left.splice(batch.left.indexOf(taken), 1);
  let settle!: () => void;
  const settled = new Promise<void>((res) => (settle = res));
  picker.claiming.set(key(taken), { settled, settle });
  return taken;
}

/**
 * A candidate from one shard, or 'empty' (with the upload generation its
 * Query was sent at) when the shard's pool holds no code at all.
 */
async function pickFromShard(ctx: CoreContext, book: BookRecord, shard: number): Promise<Candidate | Busy | { empty: number }> {
  const picker = pickerOf(ctx);
  const key = `${book.tenant}#${book.bookId}#${shard}`;
  const generation = poolGeneration(ctx, book.tenant, book.bookId);
  const joined = new Set<Batch>();
  for (;;) {
    const running = picker.batches.get(key);
    // A Query sent before an upload on this instance may miss its codes: not joined.
    if (!running || joined.has(running) || running.generation !== generation) break;
    joined.add(running);
    if (running.settledAt === undefined) {
      // A Query failing is its own claim's error; a waiter then runs its own.
      const found = await running.codes.catch(() => undefined);
      if (found && !found.length) return { empty: running.generation };
    } else if (!running.left.length || ctx.now() - running.settledAt >= PICK_REUSE_MS) {
      // Spent or stale. (An empty answer is never offered again: the empty-pool memo holds that.)
      break;
    }
    const taken = takeFrom(ctx, picker, running, book.tenant);
    if ('code' in taken) return taken;
    // Taken by the claims ahead: a newer Query of the shard may have started meanwhile; join that.
  }
  const batch: Batch = { generation, codes: queryShard(ctx, book, shard), left: [] };
  if (picker.batches.size >= 10_000) picker.batches.clear(); // bound memory
  picker.batches.set(key, batch);
  try {
    // A copy: claims take from `left`, while `codes` stays what the Query found (empty means the shard is).
    batch.left = [...(await batch.codes)];
  } finally {
    batch.settledAt = ctx.now();
  }
  if (!batch.left.length) return { empty: generation };
  return takeFrom(ctx, picker, batch, book.tenant);
}

function shuffled(n: number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/**
 * A random available code of the book: a random shard (skipping those this
 * instance saw empty in the last moment), a random start key, a random code
 * of the page. `soldOut` when every shard is empty; `undefined` when the
 * codes seen are all known taken (the caller picks again). Codes another
 * claim here is committing are skipped; when they are all that is left, the
 * pick waits for one of those commits to settle and looks again. The caller
 * must `release` a candidate once its own commit has settled.
 */
export async function pickCandidate(ctx: CoreContext, book: BookRecord): Promise<Candidate | 'soldOut' | undefined> {
  // Shards this pick found empty itself: they count towards sold out however long the walk takes
  // (the instance's memo of them may lapse meanwhile), unless this instance uploads to the book.
  const seenEmpty = new Map<number, number>();
  const emptyNow = (shard: number) =>
    seenEmpty.get(shard) === poolGeneration(ctx, book.tenant, book.bookId) || isKnownEmpty(ctx, book.tenant, book.bookId, shard);
  for (;;) {
    const busy: Promise<void>[] = [];
    for (const shard of shuffled(book.poolShards)) {
      // Checked at each step: other claims of the book learn too while this one walks.
      if (emptyNow(shard)) continue;
      const picked = await pickFromShard(ctx, book, shard);
      if ('empty' in picked) {
        seenEmpty.set(shard, picked.empty);
        rememberEmptyShard(ctx, book.tenant, book.bookId, shard, picked.empty);
      } else if ('code' in picked) return picked;
      else busy.push(...picked.busy);
    }
    if (Array.from({ length: book.poolShards }, (_, shard) => shard).every(emptyNow)) return 'soldOut';
    // Each wait ends with a commit here: its code either left the pool or is free again.
    if (!busy.length) return undefined;
    await Promise.race(busy);
  }
}

/**
 * Ends a candidate's claim on this instance. `gone`: it left the pool, by
 * this claim's commit or another instance's (a lost race), so no claim here
 * tries it again; otherwise (the claim failed for another reason) others
 * here may try it.
 */
export function release(ctx: CoreContext, tenant: string, candidate: Candidate, gone: boolean): void {
  const picker = pickerOf(ctx);
  const key = `${tenant}#${candidate.code}`;
  if (gone) {
    const now = ctx.now();
    // Entries go in in time order with one lifetime, so the expired ones are at the front.
    for (const [k, until] of picker.taken) {
      if (until > now) break;
      picker.taken.delete(k);
    }
    picker.taken.delete(key);
    picker.taken.set(key, now + TAKEN_MEMORY_MS);
  }
  picker.claiming.get(key)?.settle();
  picker.claiming.delete(key);
}
