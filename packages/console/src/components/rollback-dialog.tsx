import { unwrap } from '@coupons/client';
import { useApi } from '../api/client.ts';
import type { RolledBack } from '../api/types.ts';
import { useAction } from '../lib/use-action.ts';
import { Dialog, DialogActions } from './dialog.tsx';
import { ErrorMessage } from './error-message.tsx';

/** Gives a redemption back (an order cancelled), with the reason recorded in the code's history. */
export function RollbackDialog({ redemptionId, onClose, onDone }: { redemptionId: string; onClose: () => void; onDone: (r: RolledBack) => void }) {
  const client = useApi();
  const { busy, error, run } = useAction();
  function confirm(e: Event) {
    e.preventDefault();
    const reason = String(new FormData(e.currentTarget as HTMLFormElement).get('reason') ?? '').trim();
    void run(async () => onDone(await unwrap(client.redemptions[':redemptionId'].rollback.$post({ param: { redemptionId }, json: reason ? { reason } : {} }))));
  }
  return (
    <Dialog title="Roll back this redemption?" onClose={onClose}>
      <form onSubmit={confirm}>
        <p>
          The code gets the redemption back and can be redeemed again. Redemption <code>{redemptionId}</code> stays on record, marked as rolled back.
        </p>
        <label>
          Reason
          <textarea name="reason" rows={3} maxLength={500} placeholder="e.g. order cancelled" autoFocus />
        </label>
        {error ? <ErrorMessage error={error} prefix="Nothing was rolled back." /> : null}
        <DialogActions label="Confirm" busy={busy} onCancel={onClose} />
      </form>
    </Dialog>
  );
}
