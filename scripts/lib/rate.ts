/**
 * Codes per second done by this run. Work that an earlier run did (chunks the server answers
 * from its idempotency records, a job's codes made before we started following it) is not
 * counted, and no rate is given before `minSeconds`: a few chunks answered in the first
 * milliseconds would otherwise read as hundreds of thousands a second.
 */
export function createRate(minSeconds = 1) {
  const started = Date.now();
  let done = 0;
  return {
    /** Adds work done by this run. */
    add(units: number) {
      done += units;
    },
    get seconds() {
      return (Date.now() - started) / 1000;
    },
    get done() {
      return done;
    },
    /** Units per second since the start, or null while too early to tell. */
    perSecond(): number | null {
      const seconds = (Date.now() - started) / 1000;
      return seconds >= minSeconds ? done / seconds : null;
    },
  };
}
