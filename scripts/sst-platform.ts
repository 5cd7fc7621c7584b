/**
 * Writes `.sst/platform/` (the types `sst.config.ts` and `infra/` are written against) from the
 * pinned `sst` package, offline. SST's CLI makes this folder itself (`sst install`, `sst dev`),
 * but only after downloading Pulumi and Bun; its sources are embedded in the CLI binary that the
 * package installs (`sst-<os>-<arch>`), so this reads them from there, as Go's embed stores them,
 * and emits their declarations. The providers' types come from `@pulumi/pulumi` and `@pulumi/aws`,
 * pinned in package.json at the versions this platform names (checked below).
 *
 *   node --import tsx scripts/sst-platform.ts [--if-missing]     (npm run typecheck runs it)
 *
 * Linux x64/arm64 binaries only (ELF); elsewhere `npx sst install` makes the same folder.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess } from './lib/run-process.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, '.sst/platform');
const STAMP = join(OUT, '.from-sst-version');
const require = createRequire(join(ROOT, 'package.json'));
/** An installed package's version (read from its folder: not every package exports package.json). */
const versionOf = (name: string) => (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

const sstVersion = versionOf('sst');
if (process.argv.includes('--if-missing') && existsSync(STAMP) && readFileSync(STAMP, 'utf8') === sstVersion) process.exit(0);

// The CLI binary the `sst` package installed for this machine (its optional dependency), as bin/sst.mjs finds it.
const binary = join(dirname(require.resolve(`sst-${process.platform}-${process.arch}/package.json`)), 'bin', 'sst');
const data = readFileSync(binary);
if (data.readUInt32BE(0) !== 0x7f454c46) {
  console.error(`sst-platform: ${binary} is not an ELF binary; run \`npx sst install\` to make .sst/platform instead.`);
  process.exit(1);
}

/** The ELF's loadable segments: where a virtual address lives in the file. */
function segments() {
  const phoff = Number(data.readBigUInt64LE(0x20));
  const [size, count] = [data.readUInt16LE(0x36), data.readUInt16LE(0x38)];
  const out: { offset: number; vaddr: number; filesz: number }[] = [];
  for (let i = 0; i < count; i++) {
    const at = phoff + i * size;
    if (data.readUInt32LE(at) !== 1) continue; // PT_LOAD
    out.push({ offset: Number(data.readBigUInt64LE(at + 8)), vaddr: Number(data.readBigUInt64LE(at + 16)), filesz: Number(data.readBigUInt64LE(at + 32)) });
  }
  return out;
}
const segs = segments();
const toOffset = (va: number) => {
  const s = segs.find((x) => va >= x.vaddr && va < x.vaddr + x.filesz);
  return s ? va - s.vaddr + s.offset : undefined;
};
const toAddress = (offset: number) => {
  const s = segs.find((x) => offset >= x.offset && offset < x.offset + x.filesz)!;
  return offset - s.offset + s.vaddr;
};

/** One entry of Go's embed.FS table: name and data, each a (pointer, length) string header; then a 16-byte hash. */
function entry(at: number): { name: string; body: Buffer } | undefined {
  if (at < 0 || at + 32 > data.length) return undefined;
  const [nameVa, nameLen, bodyVa, bodyLen] = [0, 8, 16, 24].map((o) => Number(data.readBigUInt64LE(at + o))) as [number, number, number, number];
  const nameAt = toOffset(nameVa);
  if (nameAt === undefined || nameLen === 0 || nameLen > 300) return undefined;
  const name = data.subarray(nameAt, nameAt + nameLen).toString('latin1');
  if (!/^[\w./@+-]+$/.test(name)) return undefined;
  if (bodyLen === 0) return { name, body: Buffer.alloc(0) };
  const bodyAt = toOffset(bodyVa);
  return bodyAt !== undefined ? { name, body: data.subarray(bodyAt, bodyAt + bodyLen) } : undefined;
}

// Find the table through one name it must hold, then walk it both ways (48 bytes an entry).
const known = 'src/components/aws/dynamo.ts';
let record = -1;
for (let from = 0; record < 0; ) {
  const at = data.indexOf(known, from, 'latin1');
  if (at < 0) break;
  const header = Buffer.alloc(16);
  header.writeBigUInt64LE(BigInt(toAddress(at)), 0);
  header.writeBigUInt64LE(BigInt(known.length), 8);
  record = data.indexOf(header);
  from = at + 1;
}
if (record < 0) throw new Error(`sst-platform: no embedded platform found in ${binary}`);
let first = record;
while (entry(first - 48)) first -= 48;
const files: { name: string; body: Buffer }[] = [];
for (let at = first; entry(at); at += 48) files.push(entry(at)!);

rmSync(OUT, { recursive: true, force: true });
for (const f of files) {
  if (f.name.endsWith('/') || !(f.name.startsWith('src/') || f.name === 'package.json')) continue;
  mkdirSync(dirname(join(OUT, f.name)), { recursive: true });
  writeFileSync(join(OUT, f.name), f.body);
}

// The provider versions this platform is built against must be the ones installed.
const wanted = (JSON.parse(readFileSync(join(OUT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies;
for (const name of ['@pulumi/pulumi', '@pulumi/aws']) {
  const installed = versionOf(name);
  if (installed !== wanted[name]) console.warn(`sst-platform: sst ${sstVersion} is built against ${name} ${wanted[name]}, ${installed} is installed (package.json)`);
}

// Declarations only, without checking: the platform imports providers this app does not use
// (Cloudflare, Docker, ...), whose types are not installed; what infra/ uses resolves fully.
writeFileSync(
  join(OUT, 'tsconfig.declarations.json'),
  JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', declaration: true, emitDeclarationOnly: true, noCheck: true, skipLibCheck: true, outDir: 'types', rootDir: 'src', types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')] },
    include: ['src/**/*.ts'],
    exclude: ['src/runtime/**', 'src/shim/**'],
  }),
);
const tsc = await runProcess(join(ROOT, 'node_modules/.bin/tsc'), ['-p', join(OUT, 'tsconfig.declarations.json')]);
if (tsc.code !== 0) throw new Error(`sst-platform: declaration emit failed\n${tsc.stdout}${tsc.stderr}`);
for (const f of ['global.d.ts', 'internal.d.ts']) copyFileSync(join(OUT, 'src', f), join(OUT, 'types', f));

// What the CLI generates for an app whose only provider is aws.
writeFileSync(
  join(OUT, 'config.d.ts'),
  `import "./types/global.d.ts"
import { AppInput, App, Config } from "./types/config"
import * as _aws from "@pulumi/aws";

declare global {
  // @ts-expect-error
  export import aws = _aws
  interface Providers {
    providers?: {
      "aws"?: (_aws.ProviderArgs & { version?: string }) | boolean | string;
    }
  }
  export const $config: (
    input: Omit<Config, "app"> & {
      app(input: AppInput): Omit<App, "providers"> & Providers;
    },
  ) => Config;
}
`,
);
writeFileSync(STAMP, sstVersion);
console.log(`sst-platform: .sst/platform from sst ${sstVersion} (${files.length} embedded files)`);
