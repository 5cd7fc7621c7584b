// Deploy-time knobs, read from the shell that runs `sst deploy`: a flash sale needs them
// raised without a code change. A bad value fails the deploy instead of the Lambda at cold start.
export function intFromEnv(name: string, { min, max }: { min: number; max: number }): number | undefined {
  const raw = process.env[name]?.trim();
  if (!raw) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}
