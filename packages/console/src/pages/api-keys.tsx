import { useState } from 'preact/hooks';
import { unwrap } from '@coupons/client';
import { useApi } from '../api/client.ts';
import type { ApiKey, ApiKeyPage, ApiKeyRole, CreatedApiKey } from '../api/types.ts';
import { ConfirmDialog } from '../components/confirm-dialog.tsx';
import { ACTIONS, DataTable } from '../components/data-table.tsx';
import { Dialog, DialogActions } from '../components/dialog.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import { Pager, usePages } from '../components/pager.tsx';
import { ResourceStatus } from '../components/resource-status.tsx';
import { ShownOnce } from '../components/shown-once.tsx';
import { Time } from '../components/time.tsx';
import { useAction } from '../lib/use-action.ts';
import { useResource } from '../lib/use-resource.ts';
import { useTitle } from '../lib/use-title.ts';

const PAGE_SIZE = 25;

const ROLES: { value: ApiKeyRole; label: string }[] = [
  { value: 'service', label: 'service: acts for any user, no book management' },
  { value: 'admin', label: 'admin: manages books and codes' },
];

/**
 * API keys for the tenant's backends, scripts and the CLI (people sign in with the identity
 * provider instead): create one (the key is shown once), list them newest first, page by page,
 * revoke one. Only an admin signed in with a token manages keys; anyone else reads the API's 403.
 */
export function ApiKeysPage() {
  useTitle('API keys');
  const client = useApi();
  const pages = usePages();
  const keys = useResource(
    () => unwrap(client['api-keys'].$get({ query: { limit: String(PAGE_SIZE), ...(pages.cursor ? { cursor: pages.cursor } : {}) } })),
    [pages.cursor],
  );
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedApiKey>();
  const [revoking, setRevoking] = useState<ApiKey>();

  return (
    <>
      <div class="page-head">
        <h1>API keys</h1>
        <button type="button" onClick={() => setCreating(true)}>
          Create key
        </button>
      </div>
      <p class="muted">
        For your backends, scripts and the CLI, sent as <code>Authorization: Bearer cbk_…</code>. A key acts as its role within this tenant.
      </p>
      {creating ? (
        <CreateKeyDialog
          onClose={() => setCreating(false)}
          onCreated={(key) => {
            setCreating(false);
            setCreated(key);
            // Newest first: the new key heads the first page.
            if (pages.number === 1) void keys.reload();
            else pages.reset();
          }}
        />
      ) : null}
      {created ? <CreatedKey created={created} onDismiss={() => setCreated(undefined)} /> : null}
      <ResourceStatus resource={keys} failed="The keys could not be read." reading="Reading the keys…" />
      {keys.data ? <KeysTable page={keys.data} onRevoke={setRevoking} /> : null}
      {keys.data ? <Pager pages={pages} nextCursor={keys.data.nextCursor} label="API keys pages" /> : null}
      {revoking ? (
        <RevokeKeyDialog
          apiKey={revoking}
          onClose={() => setRevoking(undefined)}
          onRevoked={() => {
            setRevoking(undefined);
            void keys.reload();
          }}
        />
      ) : null}
    </>
  );
}

/**
 * The key, once. A retried create whose first answer was lost is replayed without it (the API
 * never stores a key): then the person is told to revoke that key and make another.
 */
function CreatedKey({ created, onDismiss }: { created: CreatedApiKey; onDismiss: () => void }) {
  if (created.key === undefined) {
    return (
      <div role="alert" class="notice warning">
        <p>
          Key “{created.name}” was created, but its answer was lost on the way and the key cannot be shown again. Revoke it and create another.
        </p>
        <button type="button" class="secondary" onClick={onDismiss}>
          Dismiss
        </button>
      </div>
    );
  }
  return (
    <ShownOnce title={`Key “${created.name}”`} value={created.key} label="API key" onDismiss={onDismiss}>
      Copy it now: it is shown only once and cannot be read again.
    </ShownOnce>
  );
}

function KeysTable({ page, onRevoke }: { page: ApiKeyPage; onRevoke: (key: ApiKey) => void }) {
  if (page.items.length === 0) return <p>No keys yet.</p>;
  return (
    <DataTable label="API keys" columns={['Name', 'Role', 'Key', 'Created', 'Last used', 'Revoked', ACTIONS]}>
      {page.items.map((k) => (
        <tr key={k.keyId}>
          <th scope="row">{k.name}</th>
          <td>{k.role}</td>
          <td>
            <code>{k.prefix}…</code>
          </td>
          <td>
            <Time iso={k.createdAt} />
          </td>
          <td>{k.lastUsedAt ? <Time iso={k.lastUsedAt} /> : <span class="muted">never</span>}</td>
          <td>{k.revokedAt ? <Time iso={k.revokedAt} /> : <span class="muted">active</span>}</td>
          <td>
            {k.revokedAt ? null : (
              <button type="button" class="secondary outline small" onClick={() => onRevoke(k)} aria-label={`Revoke ${k.name}`}>
                Revoke
              </button>
            )}
          </td>
        </tr>
      ))}
    </DataTable>
  );
}

function CreateKeyDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (key: CreatedApiKey) => void }) {
  const client = useApi();
  const { busy, error, run } = useAction();
  function create(e: Event) {
    e.preventDefault();
    const data = new FormData(e.currentTarget as HTMLFormElement);
    void run(async () =>
      onCreated(await unwrap(client['api-keys'].$post({ json: { name: String(data.get('name') ?? '').trim(), role: String(data.get('role')) as ApiKeyRole } }))),
    );
  }
  return (
    <Dialog title="Create an API key" onClose={onClose}>
      <form onSubmit={create}>
        <label>
          Name
          <input name="name" required maxLength={200} placeholder="checkout backend" autoFocus />
        </label>
        <label>
          Role
          <select name="role">
            {ROLES.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
        {error ? <ErrorMessage error={error} prefix="No key was created." /> : null}
        <DialogActions label="Create" busy={busy} onCancel={onClose} />
      </form>
    </Dialog>
  );
}

function RevokeKeyDialog({ apiKey, onClose, onRevoked }: { apiKey: ApiKey; onClose: () => void; onRevoked: () => void }) {
  const client = useApi();
  return (
    <ConfirmDialog
      title={`Revoke “${apiKey.name}”?`}
      label="Revoke"
      failed="The key was not revoked."
      onClose={onClose}
      onConfirm={async () => {
        await unwrap(client['api-keys'][':keyId'].$delete({ param: { keyId: apiKey.keyId } }));
        onRevoked();
      }}
    >
      <p>Requests with this key are refused within seconds, on every instance. This cannot be undone.</p>
    </ConfirmDialog>
  );
}
