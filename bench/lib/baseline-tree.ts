import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The repository as it was at `ref` (a commit, a branch, `HEAD~3`), unpacked into `dir` from git
 * (nothing in the working tree changes), with this checkout's node_modules linked in and the
 * workspace packages pointing at the unpacked ones: what a benchmark builds to compare the code
 * of then with the code of now on the same machine, in the same run. Dependencies are today's;
 * a baseline that needs others says so when it fails to build.
 */
export function baselineTree(root: string, ref: string, dir: string): { commit: string; dir: string } {
  const commit = execFileSync('git', ['rev-parse', '--verify', `${ref}^{commit}`], { cwd: root, encoding: 'utf8' }).trim();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const archive = execFileSync('git', ['archive', '--format=tar', commit], { cwd: root, maxBuffer: 512 * 1024 * 1024 });
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, '@coupons'), { recursive: true });
  for (const name of readdirSync(join(root, 'node_modules'))) {
    if (name === '@coupons') continue;
    symlinkSync(join(root, 'node_modules', name), join(modules, name));
  }
  for (const pkg of readdirSync(join(dir, 'packages'))) {
    if (existsSync(join(dir, 'packages', pkg, 'package.json'))) symlinkSync(join(dir, 'packages', pkg), join(modules, '@coupons', pkg));
  }
  return { commit, dir };
}
