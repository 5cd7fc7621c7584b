import { useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { unwrap } from '@coupons/client';
import { useApi } from '../api/client.ts';
import type { Delivery, DeliveryStatus } from '../api/types.ts';
import { ErrorMessage } from '../components/error-message.tsx';
import { Pager, usePages } from '../components/pager.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { Time } from '../components/time.tsx';
import { count } from '../lib/format.ts';
import { useResource } from '../lib/use-resource.ts';
import { useTitle } from '../lib/use-title.ts';
import { DELIVERY_STATUSES } from '../lib/webhook-values.ts';

const REFRESH_MS = 5000;
const PAGE_SIZE = 100;
/**
 * With a status, a page of the API may hold few matches, or none, and still have a cursor
 * (docs/webhooks.md): a page here follows it until it has a page's worth or has made this many requests.
 */
const FILTERED_MAX_REQUESTS = 5;

/** One endpoint's deliveries, newest first, a page at a time, filtered by status; a failed one can be sent again. */
export function DeliveriesPage({ endpointId }: { endpointId: string }) {
  const client = useApi();
  const [status, setStatus] = useState<DeliveryStatus | ''>('');
  const endpoint = useResource(() => unwrap(client.webhooks[':id'].$get({ param: { id: endpointId } })), [endpointId]);
  const pages = usePages();
  const deliveries = useResource(
    async () => {
      const items: Delivery[] = [];
      let cursor = pages.cursor;
      for (let n = 0; n < (status ? FILTERED_MAX_REQUESTS : 1); n++) {
        const query = { limit: String(PAGE_SIZE - items.length), ...(status ? { status } : {}), ...(cursor ? { cursor } : {}) };
        const page = await unwrap(client.webhooks[':id'].deliveries.$get({ param: { id: endpointId }, query }));
        items.push(...page.items);
        cursor = page.nextCursor ?? undefined;
        if (!cursor || items.length >= PAGE_SIZE) break;
      }
      return { items, nextCursor: cursor ?? null };
    },
    [endpointId, status, pages.cursor],
    { refreshMs: REFRESH_MS },
  );
  useTitle(endpoint.data ? `Deliveries to ${endpoint.data.url}` : 'Deliveries');

  return (
    <>
      <p class="crumbs">
        <Link href="/webhooks">Webhooks</Link> /
      </p>
      <h1>Deliveries{endpoint.data ? <> to <span class="url">{endpoint.data.url}</span></> : null}</h1>
      {endpoint.error ? <ErrorMessage error={endpoint.error} prefix="The endpoint could not be read." /> : null}
      <div class="toolbar">
        <label class="inline">
          Status
          <select
            value={status}
            onChange={(e) => {
              setStatus(e.currentTarget.value as DeliveryStatus | '');
              pages.reset();
            }}
          >
            <option value="">All</option>
            {DELIVERY_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s[0]!.toUpperCase() + s.slice(1)}
              </option>
            ))}
          </select>
        </label>
        <button type="button" class="secondary outline" onClick={() => void deliveries.reload()}>
          Refresh
        </button>
      </div>
      {deliveries.error ? <ErrorMessage error={deliveries.error} prefix="The deliveries could not be read." /> : null}
      {deliveries.loading ? <p aria-busy="true">Reading the deliveries…</p> : null}
      {deliveries.data?.items.length === 0 ? (
        <p>{deliveries.data.nextCursor ? 'None among the messages read; Next page reads on.' : `No deliveries${status ? ` with status ${status}` : ''}.`}</p>
      ) : null}
      {deliveries.data?.items.length ? (
        <div class="table-scroll">
          <table class="striped compact" aria-label="Deliveries">
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Attempts
                </th>
                <th scope="col">Last answer</th>
                <th scope="col">Last attempt</th>
                <th scope="col">Next attempt</th>
                <th scope="col">Message</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {deliveries.data.items.map((d) => (
                <DeliveryRow key={d.messageId} endpointId={endpointId} delivery={d} onResent={() => void deliveries.reload()} />
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {deliveries.data ? <Pager pages={pages} nextCursor={deliveries.data.nextCursor} label="Deliveries pages" /> : null}
    </>
  );
}

function DeliveryRow({ endpointId, delivery: d, onResent }: { endpointId: string; delivery: Delivery; onResent: () => void }) {
  const client = useApi();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  async function resend() {
    setBusy(true);
    setError(undefined);
    try {
      await unwrap(client.webhooks[':id'].deliveries[':messageId'].resend.$post({ param: { id: endpointId, messageId: d.messageId } }));
      onResent();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <tr>
      <th scope="row">{d.eventType}</th>
      <td>
        <StatusBadge status={d.status} />
      </td>
      <td class="num">{count(d.attempts)}</td>
      <td>{d.responseStatus ? `HTTP ${d.responseStatus}` : (d.lastError ?? '')}</td>
      <td>
        <Time iso={d.lastAttemptAt} />
      </td>
      <td>
        <Time iso={d.nextAttemptAt} />
      </td>
      <td>
        <code class="small">{d.messageId}</code>
      </td>
      <td>
        {d.status === 'failed' ? (
          <button type="button" class="secondary outline small" aria-busy={busy} disabled={busy} onClick={() => void resend()} aria-describedby={`msg-${d.messageId}`}>
            Resend
          </button>
        ) : null}
        <span id={`msg-${d.messageId}`} class="visually-hidden">
          {d.eventType} {d.messageId}
        </span>
        {error ? <ErrorMessage error={error} prefix="Not resent." /> : null}
      </td>
    </tr>
  );
}
