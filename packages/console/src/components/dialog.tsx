import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';

/**
 * A modal dialog on the browser's own `<dialog>`: it traps focus, closes on Escape and is
 * announced with its title, with nothing to re-implement. Rendered only while open.
 */
export function Dialog({ title, onClose, children }: { title: string; onClose: () => void; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current!;
    if (!dialog.open) dialog.showModal();
    return () => dialog.close();
  }, []);
  return (
    <dialog ref={ref} aria-labelledby={titleId} onClose={onClose}>
      <article>
        <header>
          <h2 id={titleId}>{title}</h2>
        </header>
        {children}
      </article>
    </dialog>
  );
}

/**
 * A dialog's Cancel and its action, busy while the action runs. Without `onConfirm` the action
 * submits the dialog's form; `danger` marks one that cannot be undone.
 */
export function DialogActions({ label, busy, onCancel, onConfirm, danger }: { label: string; busy: boolean; onCancel: () => void; onConfirm?: () => unknown; danger?: boolean }) {
  return (
    <footer class="actions">
      <button type="button" class="secondary" onClick={onCancel}>
        Cancel
      </button>
      <button
        type={onConfirm ? 'button' : 'submit'}
        class={danger ? 'danger' : undefined}
        aria-busy={busy}
        disabled={busy}
        onClick={onConfirm ? () => void onConfirm() : undefined}
      >
        {label}
      </button>
    </footer>
  );
}
