/**
 * Where a `node --cpu-prof` profile spent its time: self time by package
 * (AWS SDK, ElectroDB, Hono, zod, jose, the service, node internals, idle,
 * GC) and the top functions. `npx tsx bench/lib/profile-summary.ts <file.cpuprofile>`.
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const file = process.argv[2];
if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile>');
const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
profile.samples.forEach((id, i) => {
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});

const PACKAGES: [RegExp, string][] = [
  [/node_modules\/(@aws-sdk|@smithy|@aws-crypto)\//, 'AWS SDK'],
  [/node_modules\/electrodb\//, 'ElectroDB'],
  [/node_modules\/(hono|@hono)\//, 'Hono'],
  [/node_modules\/zod\//, 'zod'],
  [/node_modules\/jose\//, 'jose (JWT)'],
  [/node_modules\/(tsx|esbuild|get-tsconfig)\//, 'tsx (loader)'],
  [/node_modules\//, 'other packages'],
  [/packages\/core\//, 'service: core'],
  [/packages\/api\//, 'service: api'],
  [/\/bench\/|\/scripts\//, 'benchmark client'],
  [/^node:/, 'node internals'],
];
function category(n: Node): string {
  const { url, functionName } = n.callFrame;
  if (!url) return functionName === '(garbage collector)' ? 'GC' : functionName === '(idle)' ? 'idle' : functionName === '(program)' ? 'program (native)' : `native: ${functionName || 'anonymous'}`;
  return PACKAGES.find(([re]) => re.test(url))?.[1] ?? 'other';
}

const total = [...self.values()].reduce((a, b) => a + b, 0);
const cats = new Map<string, number>();
const fns = new Map<string, number>();
for (const [id, us] of self) {
  const n = byId.get(id)!;
  cats.set(category(n), (cats.get(category(n)) ?? 0) + us);
  const key = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(packages|bench|scripts)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
  fns.set(key, (fns.get(key) ?? 0) + us);
}
const pct = (us: number) => Math.round((1000 * us) / total) / 10;
const busy = total - (cats.get('idle') ?? 0);
const summary = {
  seconds: Math.round(total / 1e4) / 100,
  busyShare: Math.round((1000 * busy) / total) / 10,
  byCategory: [...cats].sort((a, b) => b[1] - a[1]).map(([c, us]) => ({ category: c, pct: pct(us), pctOfBusy: Math.round((1000 * us) / busy) / 10 })),
  topFunctions: [...fns].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([f, us]) => ({ fn: f, pct: pct(us) })),
};
process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
