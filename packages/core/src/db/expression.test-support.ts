/**
 * Evaluates a DynamoDB ConditionExpression (the subset ElectroDB writes:
 * comparisons, attribute_exists / attribute_not_exists, AND, OR, NOT,
 * parentheses) against an item in memory, with DynamoDB's rules: a missing
 * attribute or a type mismatch makes a comparison false. Tests use it to
 * check that the expression actually sent says what the in-memory predicate
 * says.
 */
type Token = string;

function tokenize(text: string): Token[] {
  const re = /\s*(\(|\)|<=|>=|<>|=|<|>|,|AND\b|OR\b|NOT\b|attribute_not_exists|attribute_exists|#[A-Za-z0-9_]+|:[A-Za-z0-9_]+)/y;
  const out: Token[] = [];
  while (re.lastIndex < text.length) {
    const m = re.exec(text);
    if (!m) break;
    out.push(m[1]!);
  }
  if (re.lastIndex < text.trimEnd().length) throw new Error(`cannot read expression at ${re.lastIndex}: ${text}`);
  return out;
}

export function evaluateCondition(
  expression: string,
  names: Record<string, string>,
  values: Record<string, unknown>,
  item: Record<string, unknown> | null,
): boolean {
  const tokens = tokenize(expression);
  let i = 0;
  const peek = () => tokens[i];
  const take = (want?: string) => {
    const t = tokens[i++];
    if (want !== undefined && t !== want) throw new Error(`expected ${want}, got ${t} in ${expression}`);
    return t!;
  };
  const attr = (t: string) => {
    if (!t.startsWith('#')) throw new Error(`expected a name, got ${t}`);
    return item?.[names[t]!];
  };
  const operand = (t: string) => (t.startsWith('#') ? attr(t) : t.startsWith(':') ? values[t] : (() => { throw new Error(`operand ${t}`); })());
  const compare = (a: unknown, op: string, b: unknown) => {
    if (a === undefined || b === undefined || typeof a !== typeof b) return false;
    if (typeof a === 'boolean' && (op === '=' || op === '<>')) return (a === b) === (op === '=');
    if (typeof a !== 'number' && typeof a !== 'string') return false;
    const d = typeof a === 'number' ? a - (b as number) : Buffer.compare(Buffer.from(a as string), Buffer.from(b as string));
    return { '=': d === 0, '<>': d !== 0, '<': d < 0, '<=': d <= 0, '>': d > 0, '>=': d >= 0 }[op]!;
  };
  function primary(): boolean {
    const t = take();
    if (t === '(') {
      const v = or();
      take(')');
      return v;
    }
    if (t === 'NOT') return !primary();
    if (t === 'attribute_exists' || t === 'attribute_not_exists') {
      take('(');
      const v = attr(take());
      take(')');
      return t === 'attribute_exists' ? v !== undefined : v === undefined;
    }
    const left = operand(t);
    const op = take();
    return compare(left, op, operand(take()));
  }
  function and(): boolean {
    let v = primary();
    while (peek() === 'AND') {
      take();
      const r = primary();
      v = v && r;
    }
    return v;
  }
  function or(): boolean {
    let v = and();
    while (peek() === 'OR') {
      take();
      const r = and();
      v = v || r;
    }
    return v;
  }
  const result = or();
  if (i !== tokens.length) throw new Error(`unread tokens in ${expression}`);
  return result;
}
