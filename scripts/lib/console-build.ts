import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess } from './run-process.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CONSOLE_DIR = join(ROOT, 'packages/console');
/** Where `npm start` builds and serves the console unless CONSOLE_DIST says otherwise. */
export const DEFAULT_CONSOLE_DIST = join(CONSOLE_DIR, 'dist');
/** Beside the build: the hash of the sources it was built from. */
const STAMP = '.source-hash';

/** What the build reads: the console, the client it calls the API through, the shared code-file format, the locked dependencies. */
const SOURCES = ['packages/console', 'packages/client/src', 'scripts/lib/code-format.ts', 'package-lock.json'];
const SKIP = new Set(['node_modules', 'dist', '.vite']);

function sourceFiles(): string[] {
  const files: string[] = [];
  const walk = (path: string) => {
    const info = statSync(path);
    if (info.isFile()) {
      if (!/\.test\.tsx?$/.test(path)) files.push(path);
      return;
    }
    for (const name of readdirSync(path).sort()) if (!SKIP.has(name)) walk(join(path, name));
  };
  for (const s of SOURCES) walk(join(ROOT, s));
  return files;
}

/** A hash of every source file's path and content: a build is stale exactly when this changes. */
export function consoleSourceHash(): string {
  const hash = createHash('sha256');
  for (const file of sourceFiles()) hash.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex').slice(0, 16);
}

export interface ConsoleBuild {
  dir: string;
  /** Why it was built now: `no build yet`, `sources changed`; undefined when the build was current. */
  built?: string;
}

/**
 * Builds the console into `outDir` (Vite, in a child process) unless the build there was made
 * from the same sources. It builds beside `outDir` and swaps the result in, so a server reading
 * `outDir` never sees half a build; `say` is told before a build starts.
 */
export async function ensureConsoleBuilt(outDir = DEFAULT_CONSOLE_DIST, say: (line: string) => void = () => undefined): Promise<ConsoleBuild> {
  const hash = consoleSourceHash();
  const stamp = join(outDir, STAMP);
  const previous = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : undefined;
  if (previous === hash) return { dir: outDir };
  const why = previous === undefined ? 'no build yet' : 'sources changed since the last build';
  const shown = outDir.startsWith(`${process.cwd()}${sep}`) ? relative(process.cwd(), outDir) : outDir;
  say(`Building the console into ${shown} (${why})…`);
  const staging = `${outDir}.building-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  const vite = join(ROOT, 'node_modules/vite/bin/vite.js');
  const result = await runProcess(process.execPath, [vite, 'build', '--logLevel', 'warn', '--outDir', staging, '--emptyOutDir'], { cwd: CONSOLE_DIR });
  if (result.code !== 0) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(`the console's build failed: ${(result.stderr || result.stdout).trim().split('\n').slice(-5).join(' / ')}`);
  }
  writeFileSync(join(staging, STAMP), `${hash}\n`);
  const old = `${outDir}.old-${process.pid}`;
  if (existsSync(outDir)) renameSync(outDir, old);
  renameSync(staging, outDir);
  rmSync(old, { recursive: true, force: true });
  return { dir: outDir, built: why };
}

/**
 * The tests' build: one per version of the sources, outside the working tree, shared by every
 * test file and run that needs it (the first to get the lock builds; the others wait for it).
 */
export async function consoleBuildForTests(): Promise<string> {
  const base = join(tmpdir(), 'coupons-console-builds');
  mkdirSync(base, { recursive: true });
  const dir = join(base, consoleSourceHash());
  if (existsSync(join(dir, STAMP))) return dir;
  const lock = `${dir}.lock`;
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch {
      if (existsSync(join(dir, STAMP))) return dir;
      // A lock older than any build is left by a process that died: take it over.
      const held = statSync(lock, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 120_000) rmSync(lock, { force: true });
      if (Date.now() > deadline) throw new Error(`waited 3 minutes for ${lock}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    await ensureConsoleBuilt(dir);
  } finally {
    rmSync(lock, { force: true });
  }
  // Builds of older sources, a day unused: nothing will ask for them again.
  for (const name of readdirSync(base)) {
    const path = join(base, name);
    if (path !== dir && Date.now() - statSync(path).mtimeMs > 86_400_000) rmSync(path, { recursive: true, force: true });
  }
  return dir;
}
