import type { ComponentChildren } from 'preact';
import { useAction } from '../lib/use-action.ts';
import { Dialog, DialogActions } from './dialog.tsx';
import { ErrorMessage } from './error-message.tsx';

/**
 * Asks before something that cannot be undone (revoke a key, delete an endpoint): says what will
 * happen, runs `onConfirm` once confirmed and, if the API refuses, says so under `failed`.
 */
export function ConfirmDialog({
  title,
  label,
  failed,
  onClose,
  onConfirm,
  children,
}: {
  title: string;
  label: string;
  failed: string;
  onClose: () => void;
  onConfirm: () => Promise<unknown>;
  children: ComponentChildren;
}) {
  const { busy, error, run } = useAction();
  return (
    <Dialog title={title} onClose={onClose}>
      {children}
      {error ? <ErrorMessage error={error} prefix={failed} /> : null}
      <DialogActions label={label} busy={busy} onCancel={onClose} onConfirm={() => run(onConfirm)} danger />
    </Dialog>
  );
}
