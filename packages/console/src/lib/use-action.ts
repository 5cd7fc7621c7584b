import { useState } from 'preact/hooks';

/**
 * Something a person asks of the API (create, revoke, resend, roll back…): `busy` while it runs,
 * so its button cannot send it twice, and its failure kept for an ErrorMessage. A failure leaves
 * the form as it was, to correct and send again; a success usually closes it.
 */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  async function run(work: () => Promise<unknown>) {
    setBusy(true);
    setError(undefined);
    try {
      await work();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, run };
}
