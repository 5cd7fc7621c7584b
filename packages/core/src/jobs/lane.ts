import { and, eq } from '../db/condition.ts';
import { Refused, transition, type Item } from '../db/transition.ts';
import type { LaneRecord } from './model.ts';

/**
 * A lane's progress moves on from exactly the progress its runner read, in
 * the transaction that commits the chunk: a lane resumed after a crash, or
 * raced by a second runner, never counts a chunk twice and never skips one.
 * Refused: another commit moved it (the item says where to), or it is gone.
 */
export const advanceLane = transition({
  refusals: ['moved', 'missing'],
  condition: ({ generated, chunks }: { generated: number; chunks: number }) => and(eq('generated', generated), eq('chunks', chunks)),
  refusal: (lane: LaneRecord | null) =>
    lane ? new Refused('moved', `the lane is at ${lane.generated} after ${lane.chunks} chunks`, lane) : new Refused('missing', 'the job lost a lane'),
});

/** A scan lane (jobs/scan-lanes.ts) moves on from exactly the page its runner read (`chunks`). */
export const advanceScan = transition({
  refusals: ['moved'],
  condition: ({ chunks }: { chunks: number }) => eq('chunks', chunks),
  refusal: (item: Item | null) => new Refused('moved', 'another runner committed this page', item),
});
