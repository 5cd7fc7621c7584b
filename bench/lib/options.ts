/** A non-negative integer option of a benchmark: `--name N`, `--name=N`, else the env variable, else the fallback. */
export function option(name: string, envName: string, fallback: number): number {
  const args = process.argv.slice(2);
  let raw: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === `--${name}`) raw = args[i + 1];
    else if (a.startsWith(`--${name}=`)) raw = a.slice(name.length + 3);
  }
  raw ??= process.env[envName];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} / ${envName} must be a non-negative integer, got ${raw}`);
  return n;
}
