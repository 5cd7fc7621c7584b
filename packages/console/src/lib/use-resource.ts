import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface Resource<T> {
  data: T | undefined;
  /** The last load's failure; cleared by the next success. Data already shown stays, with the error beside it. */
  error: unknown;
  /** True until the first answer (or failure) for the current inputs. */
  loading: boolean;
  /** When `data` was last read from the API. */
  readAt: Date | undefined;
  reload(): Promise<void>;
  /** Puts an answer the page already has (a PATCH's result) in place of the loaded one. */
  replace(data: T): void;
}

/**
 * Something read from the API, kept fresh: loaded when `deps` change (forgetting the previous
 * inputs' data, so one book's numbers never show under another's name), reloaded on demand and,
 * with `refreshMs`, every so often while the tab is visible. An answer that arrives after a newer
 * request was sent is dropped, so a slow old answer never overwrites a newer one.
 */
export function useResource<T>(load: () => Promise<T>, deps: unknown[], options: { refreshMs?: number } = {}): Resource<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean; readAt?: Date }>({ loading: true });
  const latest = useRef(0);
  const inFlight = useRef(false);
  const loadRef = useRef(load);
  loadRef.current = load;

  const run = useCallback(async () => {
    const mine = ++latest.current;
    inFlight.current = true;
    try {
      const data = await loadRef.current();
      if (mine === latest.current) setState({ data, loading: false, readAt: new Date() });
    } catch (error) {
      if (mine === latest.current) setState((s) => ({ ...s, error, loading: false }));
    } finally {
      if (mine === latest.current) inFlight.current = false;
    }
  }, []);

  useEffect(() => {
    setState({ loading: true });
    void run();
    if (!options.refreshMs) return;
    const timer = setInterval(() => {
      if (!document.hidden && !inFlight.current) void run();
    }, options.refreshMs);
    return () => clearInterval(timer);
  }, [...deps, options.refreshMs]);

  return {
    ...state,
    data: state.data,
    reload: run,
    replace: useCallback((data: T) => {
      latest.current++;
      inFlight.current = false;
      setState({ data, loading: false, readAt: new Date() });
    }, []),
  } as Resource<T>;
}
