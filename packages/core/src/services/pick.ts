import { randomInt } from 'node:crypto';
import { createConversions } from 'electrodb';
import type { CoreContext } from '../context.ts';
import type { BookRecord } from './books.ts';
import { randomPoolSlot } from './insert-codes.ts';
import { isKnownEmpty, isKnownSoldOut, rememberEmptyShard } from './empty-pools.ts';

/** An available code a claim may try to take: the transaction's condition decides. */
export interface Candidate {
  code: string;
  shard: number;
  poolSlot: string;
}

/** Codes per pool Query: a keys-only page of 8 is well under 4 KB, so it costs 0.5 RCU like a page of 1. */
export const PICK_LIMIT = 8;

/**
 * One pool Query's codes, shared by the claims of the same shard that were
 * waiting for a pick while it ran. Candidates leave `left` as claims take
 * them; what no waiting claim takes is dropped when the next claim arrives
 * after the Query answered (never reused later, so a pick is never older
 * than one round trip).
 */
interface Batch {
  settled: boolean;
  codes: Promise<Candidate[]>;
  left: Candidate[];
}

interface Picker {
  batches: Map<string, Batch>;
  /** Codes this instance's claims are committing right now (settled when the commit is): no other claim here tries them. */
  claiming: Map<string, { settled: Promise<void>; settle: () => void }>;
}

const pickers = new WeakMap<CoreContext, Picker>();

function pickerOf(ctx: CoreContext): Picker {
  let picker = pickers.get(ctx);
  if (!picker) pickers.set(ctx, (picker = { batches: new Map(), claiming: new Map() }));
  return picker;
}

/** Up to PICK_LIMIT available codes of one shard, from a random point of its key space, wrapping around. */
async function queryShard(ctx: CoreContext, book: BookRecord, shard: number): Promise<Candidate[]> {
  const from = randomPoolSlot();
  const pool = createConversions(ctx.store.code).byAccessPattern.pool;
  // The pool index projects keys only; the entity reads the code and slot back off them.
  const query = async (where: 'gte' | 'lt') => {
    const res: any = await ctx.store.code.query
      .pool({ tenant: book.tenant, bookId: book.bookId, shard })
      [where]({ poolSlot: from })
      .go({ limit: PICK_LIMIT, data: 'raw', ignoreOwnership: true, originalErr: true });
    return (res.data?.Items ?? []) as Record<string, string>[];
  };
  let items = await query('gte');
  if (!items.length) items = await query('lt');
  return items.map((keys) => {
    const { code, poolSlot } = pool.fromKeys.toComposite(keys as any) as { code: string; poolSlot: string };
    return { code, shard, poolSlot };
  });
}

/** The shard had codes, but each is being committed by another claim here (settling soon) or was lost by this one. */
interface Busy {
  busy: Promise<void>[];
}

/** Takes a random candidate of the batch that no claim here is committing and this claim has not lost. */
function takeFrom(picker: Picker, batch: Batch, book: BookRecord, lost: ReadonlySet<string>): Candidate | Busy {
  const usable = batch.left.filter((c) => !lost.has(c.code) && !picker.claiming.has(`${book.tenant}#${c.code}`));
  if (!usable.length) {
    const busy = batch.left.flatMap((c) => picker.claiming.get(`${book.tenant}#${c.code}`)?.settled ?? []);
    return { busy };
  }
  const taken = usable[randomInt(usable.length)]!;
  batch.left.splice(batch.left.indexOf(taken), 1);
  let settle!: () => void;
  const settled = new Promise<void>((res) => (settle = res));
  picker.claiming.set(`${book.tenant}#${taken.code}`, { settled, settle });
  return taken;
}

/** A candidate from one shard, or 'empty' when its pool holds no code at all. */
async function pickFromShard(ctx: CoreContext, book: BookRecord, shard: number, lost: ReadonlySet<string>): Promise<Candidate | Busy | 'empty'> {
  const picker = pickerOf(ctx);
  const key = `${book.tenant}#${book.bookId}#${shard}`;
  const running = picker.batches.get(key);
  if (running && !running.settled) {
    // A Query failing is its own claim's error; a waiter then runs its own.
    const found = await running.codes.catch(() => undefined);
    if (found && !found.length) return 'empty';
    const taken = takeFrom(picker, running, book, lost);
    if ('code' in taken) return taken;
  }
  const batch: Batch = { settled: false, codes: queryShard(ctx, book, shard), left: [] };
  if (picker.batches.size >= 10_000) picker.batches.clear(); // bound memory
  picker.batches.set(key, batch);
  try {
    // A copy: claims take from `left`, while `codes` stays what the Query found (empty means the shard is).
    batch.left = [...(await batch.codes)];
  } finally {
    batch.settled = true;
  }
  if (!batch.left.length) return 'empty';
  return takeFrom(picker, batch, book, lost);
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
 * codes seen were all lost by this claim. Codes another claim here is
 * committing are skipped; when they are all that is left, the pick waits for
 * one of those commits to settle and looks again. The caller must `release`
 * a candidate once its own commit has settled.
 */
export async function pickCandidate(ctx: CoreContext, book: BookRecord, lost: ReadonlySet<string>): Promise<Candidate | 'soldOut' | undefined> {
  for (;;) {
    const busy: Promise<void>[] = [];
    for (const shard of shuffled(book.poolShards)) {
      // Checked at each step: other claims of the book learn too while this one walks.
      if (isKnownEmpty(ctx, book.tenant, book.bookId, shard)) continue;
      const picked = await pickFromShard(ctx, book, shard, lost);
      if (picked === 'empty') rememberEmptyShard(ctx, book.tenant, book.bookId, shard);
      else if ('code' in picked) return picked;
      else busy.push(...picked.busy);
    }
    if (isKnownSoldOut(ctx, book.tenant, book.bookId, book.poolShards)) return 'soldOut';
    // Each wait ends with a commit here: its code either left the pool or is free again.
    if (!busy.length) return undefined;
    await Promise.race(busy);
  }
}

/** Ends a candidate's claim on this instance: committed (it left the pool) or lost (others here may try it). */
export function release(ctx: CoreContext, tenant: string, candidate: Candidate): void {
  const key = `${tenant}#${candidate.code}`;
  const claiming = pickerOf(ctx).claiming;
  claiming.get(key)?.settle();
  claiming.delete(key);
}
