/**
 * A write condition described once, as data, so that the same description
 * becomes both the DynamoDB condition (through ElectroDB's `where`) and an
 * in-memory predicate. Comparisons follow DynamoDB: a missing attribute, or
 * one of another type, makes a comparison false. Only attribute-to-value
 * comparisons: a rule that needs more is two writes, not a richer language.
 */
export type Scalar = string | number;

export type Cond =
  | { kind: 'eq'; attr: string; value: Scalar | boolean }
  | { kind: 'lt' | 'lte' | 'gt' | 'gte'; attr: string; value: Scalar }
  | { kind: 'exists' | 'notExists'; attr: string }
  | { kind: 'and' | 'or'; of: Cond[] };

export const eq = (attr: string, value: Scalar | boolean): Cond => ({ kind: 'eq', attr, value });
export const lt = (attr: string, value: Scalar): Cond => ({ kind: 'lt', attr, value });
export const lte = (attr: string, value: Scalar): Cond => ({ kind: 'lte', attr, value });
export const gt = (attr: string, value: Scalar): Cond => ({ kind: 'gt', attr, value });
export const gte = (attr: string, value: Scalar): Cond => ({ kind: 'gte', attr, value });
export const exists = (attr: string): Cond => ({ kind: 'exists', attr });
export const notExists = (attr: string): Cond => ({ kind: 'notExists', attr });
export const and = (...of: Cond[]): Cond => ({ kind: 'and', of });
export const or = (...of: Cond[]): Cond => ({ kind: 'or', of });
/** `attr` is one of `values` (DynamoDB's IN, written as ORs). */
export const oneOf = (attr: string, values: readonly (Scalar | boolean)[]): Cond => or(...values.map((v) => eq(attr, v)));
/** `attr` equals `value`, or is absent when `value` is: a version or counter never written yet. */
export const isAt = (attr: string, value: Scalar | undefined): Cond => (value === undefined ? notExists(attr) : eq(attr, value));
/** No condition beyond what the write itself demands (a create: the item is absent). */
export const always: Cond = and();

function render(c: Cond, a: any, op: any): string {
  switch (c.kind) {
    case 'eq':
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
      return op[c.kind](a[c.attr], c.value);
    case 'exists':
      return op.exists(a[c.attr]);
    case 'notExists':
      return op.notExists(a[c.attr]);
    case 'and':
    case 'or': {
      const parts = c.of.map((x) => render(x, a, op));
      // `always` adds nothing to an AND; in an OR it would make the whole condition true.
      if (c.kind === 'or' && parts.includes('')) throw new Error('`always` cannot be one side of an OR');
      return parts
        .filter((text) => text !== '')
        .map((text) => `(${text})`)
        .join(c.kind === 'and' ? ' AND ' : ' OR ');
    }
  }
}

/** The condition as an ElectroDB `where` callback (`always` renders nothing, which ElectroDB leaves out). */
export const where = (c: Cond) => (attr: any, op: any) => render(c, attr, op);

const compare = (left: unknown, right: Scalar | boolean, test: (d: number) => boolean) => {
  if (typeof left !== typeof right) return false;
  if (typeof right === 'boolean') return test(left === right ? 0 : NaN); // only `eq` takes a boolean
  const d = typeof left === 'number' ? left - (right as number) : Buffer.compare(Buffer.from(left as string), Buffer.from(right as string));
  return test(d);
};

/** The condition evaluated against an item in memory (`null`: no item, as DynamoDB sees a missing one). */
export function holds(c: Cond, item: Record<string, unknown> | null): boolean {
  const v = item?.[(c as { attr?: string }).attr ?? ''];
  switch (c.kind) {
    case 'eq':
      return compare(v, c.value, (d) => d === 0);
    case 'lt':
      return compare(v, c.value, (d) => d < 0);
    case 'lte':
      return compare(v, c.value, (d) => d <= 0);
    case 'gt':
      return compare(v, c.value, (d) => d > 0);
    case 'gte':
      return compare(v, c.value, (d) => d >= 0);
    case 'exists':
      return v !== undefined;
    case 'notExists':
      return v === undefined;
    case 'and':
      return c.of.every((x) => holds(x, item));
    case 'or':
      return c.of.some((x) => holds(x, item));
  }
}
