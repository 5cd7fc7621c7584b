/**
 * Ctrl-C that stops gracefully under `npm run` too. One Ctrl-C reaches the CLI more than once:
 * the terminal signals the whole process group, and npm (and tsx, when it wraps the process)
 * relay the same signal to their child a few milliseconds later. So the first SIGINT or SIGTERM
 * starts a graceful stop, copies arriving within `duplicateWindowMs` are that same Ctrl-C and
 * are ignored, and only a later one means "quit now".
 */
export interface Interrupt {
  /** The signal that started the stop, or null while running. */
  readonly signal: NodeJS.Signals | null;
  dispose(): void;
}

export function onInterrupt(onFirst: (signal: NodeJS.Signals) => void, options: { duplicateWindowMs?: number; exitCode?: number } = {}): Interrupt {
  const windowMs = options.duplicateWindowMs ?? 1000;
  let first: { signal: NodeJS.Signals; at: number } | null = null;
  const handler = (signal: NodeJS.Signals) => {
    const now = Date.now();
    if (!first) {
      first = { signal, at: now };
      onFirst(signal);
    } else if (now - first.at >= windowMs) {
      process.stderr.write(`\n${signal} again: quitting at once\n`);
      process.exit(options.exitCode ?? 130);
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    get signal() {
      return first?.signal ?? null;
    },
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
