import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

/** A secret the API shows only in this answer (a webhook's signing secret, an API key), with a copy button. */
export function ShownOnce({ title, value, label, onDismiss, children }: { title: string; value: string; label: string; onDismiss: () => void; children: ComponentChildren }) {
  const [copied, setCopied] = useState(false);
  return (
    <article class="shown-once" role="region" aria-label={title}>
      <h2 class="h4">{title}</h2>
      <p>{children}</p>
      <div class="secret">
        <input readOnly aria-label={label} value={value} onFocus={(e) => e.currentTarget.select()} />
        <button
          type="button"
          class="secondary"
          onClick={() => {
            void navigator.clipboard?.writeText(value).then(() => setCopied(true));
          }}
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <button type="button" class="outline small" onClick={onDismiss}>
        I have stored it
      </button>
    </article>
  );
}
