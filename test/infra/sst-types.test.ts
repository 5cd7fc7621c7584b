import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProcess } from '../../scripts/lib/run-process.ts';

// sst.config.ts and infra/ type-check against the platform of the pinned `sst` package
// (.sst/platform, written offline by scripts/sst-platform.ts from the package's CLI binary) and
// the Pulumi providers' types: the config is proven by the types SST itself uses, and by
// test/infra/sst-config.test.ts evaluating it.

const ROOT = join(import.meta.dirname, '..', '..');
const bin = (name: string) => join(ROOT, 'node_modules/.bin', name);
let dir: string;

beforeAll(async () => {
  const made = await runProcess(process.execPath, ['--import', 'tsx', 'scripts/sst-platform.ts', '--if-missing'], { cwd: ROOT });
  expect(made.code, made.stderr).toBe(0);
  // Inside the repository (.sst/ is ignored by git), so the probe resolves the same packages.
  dir = mkdtempSync(join(ROOT, '.sst', 'type-probe-'));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tsc = (project: string) => runProcess(bin('tsc'), ['-p', project], { cwd: ROOT });

describe('SST platform types', () => {
  it('sst.config.ts and infra/ type-check', async () => {
    const r = await tsc(join(ROOT, 'infra/tsconfig.json'));
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  }, 120_000);

  it('are real types: a wrong component argument is an error', async () => {
    const file = join(dir, 'wrong.ts');
    writeFileSync(
      file,
      `/// <reference path="${join(ROOT, '.sst/platform/config.d.ts')}" />
new sst.aws.Dynamo('Wrong', { fields: { pk: 'strng' }, primaryIndex: { hashKey: 'pk' } });
new sst.x.DevCommand('Wrong', { dev: { autostart: 'yes' } });
new sst.Linkable('Fine', { properties: { endpoint: 'http://127.0.0.1:8000' } });
`,
    );
    const project = join(dir, 'tsconfig.json');
    writeFileSync(project, JSON.stringify({ extends: join(ROOT, 'infra/tsconfig.json'), files: [file], include: [] }));
    const r = await tsc(project);
    expect(r.code).not.toBe(0);
    const errors = r.stdout.split('\n').filter((l) => l.includes('error TS'));
    expect(errors.map((e) => /wrong\.ts\((\d+),/.exec(e)?.[1])).toEqual(['2', '3']);
    expect(r.stdout).toMatch(/"strng"/);
  }, 120_000);
});
