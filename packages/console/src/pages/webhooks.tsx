import { useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { unwrap } from '@coupons/client';
import { useApi } from '../api/client.ts';
import type { CreatedWebhook, Webhook, WebhookEventType } from '../api/types.ts';
import { ConfirmDialog } from '../components/confirm-dialog.tsx';
import { ACTIONS, DataTable } from '../components/data-table.tsx';
import { Dialog, DialogActions } from '../components/dialog.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import { ResourceStatus } from '../components/resource-status.tsx';
import { ShownOnce } from '../components/shown-once.tsx';
import { Time } from '../components/time.tsx';
import { useAction } from '../lib/use-action.ts';
import { useResource } from '../lib/use-resource.ts';
import { useTitle } from '../lib/use-title.ts';
import { EVENT_TYPES } from '../lib/webhook-values.ts';

/** The tenant's webhook endpoints: add one (its secret shown once), remove one, open its deliveries. */
export function WebhooksPage() {
  useTitle('Webhooks');
  const client = useApi();
  const endpoints = useResource(() => unwrap(client.webhooks.$get({ query: {} })), []);
  const [adding, setAdding] = useState(false);
  const [created, setCreated] = useState<CreatedWebhook>();
  const [deleting, setDeleting] = useState<Webhook>();

  return (
    <>
      <div class="page-head">
        <h1>Webhooks</h1>
        <button type="button" onClick={() => setAdding(true)}>
          Add endpoint
        </button>
      </div>
      <p class="muted">Events about codes, books and jobs, POSTed to your endpoints and signed (Standard Webhooks).</p>
      {adding ? (
        <AddEndpointDialog
          onClose={() => setAdding(false)}
          onCreated={(w) => {
            setAdding(false);
            setCreated(w);
            void endpoints.reload();
          }}
        />
      ) : null}
      {created ? (
        <ShownOnce title={`Signing secret of ${created.url}`} value={created.secret} label="Signing secret" onDismiss={() => setCreated(undefined)}>
          Verify each delivery with it. It is shown only now.
        </ShownOnce>
      ) : null}
      <h2>Endpoints</h2>
      <ResourceStatus resource={endpoints} failed="The endpoints could not be read." reading="Reading the endpoints…" />
      {endpoints.data?.items.length === 0 ? <p>No endpoints yet.</p> : null}
      {endpoints.data?.items.length ? (
        <DataTable label="Endpoints" columns={['URL', 'Events', 'Added', ACTIONS]}>
          {endpoints.data.items.map((w) => (
            <tr key={w.id}>
              <th scope="row">
                <Link href={`/webhooks/${encodeURIComponent(w.id)}`}>{w.url}</Link>
              </th>
              <td>{w.events.length ? w.events.join(', ') : 'every event'}</td>
              <td>
                <Time iso={w.createdAt} />
              </td>
              <td>
                <button type="button" class="secondary outline small" onClick={() => setDeleting(w)} aria-label={`Delete ${w.url}`}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </DataTable>
      ) : null}
      {deleting ? (
        <DeleteEndpoint
          endpoint={deleting}
          onClose={() => setDeleting(undefined)}
          onDeleted={() => {
            setDeleting(undefined);
            void endpoints.reload();
          }}
        />
      ) : null}
    </>
  );
}

function AddEndpointDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (w: CreatedWebhook) => void }) {
  const client = useApi();
  const { busy, error, run } = useAction();
  function add(e: Event) {
    e.preventDefault();
    const data = new FormData(e.currentTarget as HTMLFormElement);
    const events = data.getAll('events').map(String) as WebhookEventType[];
    void run(async () => onCreated(await unwrap(client.webhooks.$post({ json: { url: String(data.get('url') ?? '').trim(), events } }))));
  }
  return (
    <Dialog title="Add a webhook endpoint" onClose={onClose}>
      <form onSubmit={add}>
        <label>
          Endpoint URL
          <input name="url" type="url" required placeholder="https://example.com/hooks/coupons" autoFocus />
        </label>
        <fieldset>
          <legend>Events (none chosen: every event)</legend>
          <div class="checks">
            {EVENT_TYPES.map((t) => (
              <label key={t}>
                <input type="checkbox" name="events" value={t} /> {t}
              </label>
            ))}
          </div>
        </fieldset>
        {error ? <ErrorMessage error={error} prefix="The endpoint was not added." /> : null}
        <DialogActions label="Add" busy={busy} onCancel={onClose} />
      </form>
    </Dialog>
  );
}

function DeleteEndpoint({ endpoint, onClose, onDeleted }: { endpoint: Webhook; onClose: () => void; onDeleted: () => void }) {
  const client = useApi();
  return (
    <ConfirmDialog
      title="Delete this endpoint?"
      label="Confirm"
      failed="The endpoint was not deleted."
      onClose={onClose}
      onConfirm={async () => {
        await unwrap(client.webhooks[':id'].$delete({ param: { id: endpoint.id } }));
        onDeleted();
      }}
    >
      <p>
        Nothing more is delivered to <code>{endpoint.url}</code>.
      </p>
    </ConfirmDialog>
  );
}
