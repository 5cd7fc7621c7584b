import { useState } from 'preact/hooks';
import { unwrap } from '@coupons/client';
import { useApi } from '../api/client.ts';
import type { ApiKey, ApiKeyPage, ApiKeyRole, CreatedApiKey } from '../api/types.ts';
import { Dialog } from '../components/dialog.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import { Pager, usePages } from '../components/pager.tsx';
import { ShownOnce } from '../components/shown-once.tsx';
import { Time } from '../components/time.tsx';
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
      {keys.error ? <ErrorMessage error={keys.error} prefix="The keys could not be read." /> : null}
      {keys.loading ? <p aria-busy="true">Reading the keys…</p> : null}
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
    <div class="table-scroll">
      <table class="striped" aria-label="API keys">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Role</th>
            <th scope="col">Key</th>
            <th scope="col">Created</th>
            <th scope="col">Last used</th>
            <th scope="col">Revoked</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
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
        </tbody>
      </table>
    </div>
  );
}

function CreateKeyDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (key: CreatedApiKey) => void }) {
  const client = useApi();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  async function create(e: Event) {
    e.preventDefault();
    const data = new FormData(e.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(undefined);
    try {
      onCreated(await unwrap(client['api-keys'].$post({ json: { name: String(data.get('name') ?? '').trim(), role: String(data.get('role')) as ApiKeyRole } })));
    } catch (err) {
      setError(err);
      setBusy(false);
    }
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
        <footer class="actions">
          <button type="button" class="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" aria-busy={busy} disabled={busy}>
            Create
          </button>
        </footer>
      </form>
    </Dialog>
  );
}

function RevokeKeyDialog({ apiKey, onClose, onRevoked }: { apiKey: ApiKey; onClose: () => void; onRevoked: () => void }) {
  const client = useApi();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  async function revoke() {
    setBusy(true);
    setError(undefined);
    try {
      await unwrap(client['api-keys'][':keyId'].$delete({ param: { keyId: apiKey.keyId } }));
      onRevoked();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }
  return (
    <Dialog title={`Revoke “${apiKey.name}”?`} onClose={onClose}>
      <p>Requests with this key are refused within seconds, on every instance. This cannot be undone.</p>
      {error ? <ErrorMessage error={error} prefix="The key was not revoked." /> : null}
      <footer class="actions">
        <button type="button" class="secondary" onClick={onClose}>
          Cancel
        </button>
        <button type="button" class="danger" aria-busy={busy} disabled={busy} onClick={() => void revoke()}>
          Revoke
        </button>
      </footer>
    </Dialog>
  );
}
