import fc from 'fast-check';
import { expect } from 'vitest';
import { createStore } from '../entities/index.ts';
import { createDocumentClient, createDynamoDbClient } from './client.ts';
import { holds, type Cond } from './condition.ts';
import { evaluateCondition } from './expression.test-support.ts';
import { BrokenInvariant, type Item, type Transition } from './transition.ts';

/**
 * Property tests of transitions, without a database: ElectroDB renders the
 * write a transition's condition goes on (`.params()`), a small DynamoDB
 * condition evaluator reads that expression on generated items, and it must
 * agree with the condition as data and with `allows`.
 */

/** A store whose requests are only ever rendered, never sent. */
export const offlineStore = createStore(
  createDocumentClient(createDynamoDbClient({ AWS_REGION: 'us-east-1', DYNAMODB_ENDPOINT: 'http://127.0.0.1:9' })),
  'unit',
);

/** The parts of an ElectroDB request (`.params()`) that decide a write. */
export interface Sent {
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
}

/** What DynamoDB decides: the item as stored, with its keys (absent item: no keys). */
export function dynamoSays(params: Sent, item: Item | null): boolean {
  if (!params.ConditionExpression) return true;
  const stored = item ? { pk: 'PK', sk: 'SK', ...item } : null;
  return evaluateCondition(params.ConditionExpression, params.ExpressionAttributeNames ?? {}, params.ExpressionAttributeValues ?? {}, stored);
}

export const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
/** An item or none, its attributes each present or absent. */
export const itemOrNone = <T extends Record<string, fc.Arbitrary<unknown>>>(attributes: T) =>
  fc.option(fc.record(attributes), { nil: null });

/** Generated records carry undefined for absent attributes; stored items simply lack them. */
const asStored = (raw: Item | null): Item | null => raw && Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));

/**
 * Holds a transition's parts together on generated items and inputs: the
 * expression sent for its write (`sent`, which includes what the write adds
 * by itself, such as a patch's "the item exists"), the condition as data and
 * `allows` give one verdict; each refusal is one the transition declares (or
 * a broken invariant, which is no refusal); and every declared refusal is met
 * on some item, so the list cannot keep a code the transition no longer gives.
 */
export function checkTransition<I>(
  t: Transition<I, any, string>,
  items: fc.Arbitrary<Item | null>,
  inputs: fc.Arbitrary<I>,
  sent: (cond: Cond, input: I) => Sent,
  numRuns = 400,
): void {
  for (const code of t.alreadyDone) expect(t.refusals, 'alreadyDone is a subset of refusals').toContain(code);
  const met = new Set<string>();
  fc.assert(
    fc.property(items, inputs, (raw, input) => {
      const item = asStored(raw);
      const cond = t.condition(input);
      const said = dynamoSays(sent(cond, input), item);
      const allowed = t.allows(item, input);
      expect(allowed, 'allows vs the expression sent').toBe(said);
      // Where the write's own demand (the item exists, or not) is met, the verdict is the condition's alone.
      if (t.presence === 'any' || (t.presence === 'exists') === (item !== null)) expect(holds(cond, item), 'the condition as data vs the expression sent').toBe(said);
      if (allowed) return;
      const refusal = t.refusal(item, input);
      if (refusal instanceof BrokenInvariant) return;
      expect(t.refusals, 'a declared refusal').toContain(refusal.code);
      met.add(refusal.code);
    }),
    { numRuns },
  );
  expect([...met].sort(), 'every declared refusal is met').toEqual([...t.refusals].sort());
}
