import type { RequestCharge } from './meter.ts';

/**
 * A write plan as lines, sorted: `tx update code 2` (an item in a
 * transaction, 2 WCU), `put bookStatsShard 1`, `byOwner add code 1` (an
 * index entry). Two plans are equal when the same items and entries are
 * written at the same cost; this is what the cost test pins per route.
 */
export function writePlan(records: RequestCharge[]): string[] {
  const lines: string[] = [];
  for (const r of records) {
    if (r.outcome !== 'ok') continue;
    for (const w of r.writes) {
      lines.push(`${w.transactional ? 'tx ' : ''}${w.action} ${w.entity} ${w.wcu}`);
      for (const i of w.indexes) lines.push(`${i.index} ${i.change} ${w.entity} ${i.wcu}`);
    }
  }
  return lines.sort();
}

export interface CostTotals {
  requests: number;
  /** Write and read requests that DynamoDB refused or cancelled (not in the units). */
  refused: number;
  wcu: number;
  rcu: number;
}

export function totals(records: RequestCharge[]): CostTotals {
  return {
    requests: records.length,
    refused: records.filter((r) => r.outcome === 'cancelled' || r.outcome === 'error').length,
    wcu: records.reduce((s, r) => s + r.wcu, 0),
    rcu: records.reduce((s, r) => s + r.rcu, 0),
  };
}

/** WCU per partition key, for the table (`table`) and each index by name. Only committed writes count. */
export function writesByKey(records: RequestCharge[]): Record<string, Map<string, number>> {
  const out: Record<string, Map<string, number>> = { table: new Map() };
  const add = (where: string, pk: string, wcu: number) => {
    out[where] ??= new Map();
    const m = out[where];
    m.set(pk, (m.get(pk) ?? 0) + wcu);
  };
  for (const r of records) {
    if (r.outcome !== 'ok' && r.outcome !== 'conditionFailed') continue;
    for (const w of r.writes) {
      add('table', w.pk, w.wcu);
      for (const i of w.indexes) for (const k of i.keys) add(i.index, k.pk, k.wcu);
    }
  }
  return out;
}
