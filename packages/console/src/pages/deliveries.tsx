import { useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { unwrap } from '@coupons/client';
import { useApi } from '../api/client.ts';
import type { Delivery, DeliveryStatus } from '../api/types.ts';
import { ACTIONS, DataTable } from '../components/data-table.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import { Pager, usePages } from '../components/pager.tsx';
import { ResourceStatus } from '../components/resource-status.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { StatusFilter, type StatusOption } from '../components/status-filter.tsx';
import { Time } from '../components/time.tsx';
import { count } from '../lib/format.ts';
import { readFilteredPage } from '../lib/read-filtered-page.ts';
import { useAction } from '../lib/use-action.ts';
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

const STATUS_OPTIONS: StatusOption<DeliveryStatus>[] = [{ value: '', label: 'All' }, ...DELIVERY_STATUSES.map((s) => ({ value: s, label: s[0]!.toUpperCase() + s.slice(1) }))];

/** One endpoint's deliveries, newest first, a page at a time, filtered by status; a failed one can be sent again. */
export function DeliveriesPage({ endpointId }: { endpointId: string }) {
  const client = useApi();
  const [status, setStatus] = useState<DeliveryStatus | ''>('');
  const endpoint = useResource(() => unwrap(client.webhooks[':id'].$get({ param: { id: endpointId } })), [endpointId]);
  const pages = usePages();
  const deliveries = useResource(
    () =>
      readFilteredPage(
        (cursor, wanted) =>
          unwrap(
            client.webhooks[':id'].deliveries.$get({
              param: { id: endpointId },
              query: { limit: String(wanted), ...(status ? { status } : {}), ...(cursor ? { cursor } : {}) },
            }),
          ),
        { cursor: pages.cursor, pageSize: PAGE_SIZE, maxRequests: status ? FILTERED_MAX_REQUESTS : 1 },
      ),
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
        <StatusFilter value={status} options={STATUS_OPTIONS} onChange={setStatus} pages={pages} />
        <button type="button" class="secondary outline" onClick={() => void deliveries.reload()}>
          Refresh
        </button>
      </div>
      <ResourceStatus resource={deliveries} failed="The deliveries could not be read." reading="Reading the deliveries…" />
      {deliveries.data?.items.length === 0 ? (
        <p>{deliveries.data.nextCursor ? 'None among the messages read; Next page reads on.' : `No deliveries${status ? ` with status ${status}` : ''}.`}</p>
      ) : null}
      {deliveries.data?.items.length ? (
        <DataTable
          label="Deliveries"
          compact
          columns={['Event', 'Status', { label: 'Attempts', numeric: true }, 'Last answer', 'Last attempt', 'Next attempt', 'Message', ACTIONS]}
        >
          {deliveries.data.items.map((d) => (
            <DeliveryRow key={d.messageId} endpointId={endpointId} delivery={d} onResent={() => void deliveries.reload()} />
          ))}
        </DataTable>
      ) : null}
      {deliveries.data ? <Pager pages={pages} nextCursor={deliveries.data.nextCursor} label="Deliveries pages" /> : null}
    </>
  );
}

function DeliveryRow({ endpointId, delivery: d, onResent }: { endpointId: string; delivery: Delivery; onResent: () => void }) {
  const client = useApi();
  const { busy, error, run } = useAction();
  const resend = () =>
    run(async () => {
      await unwrap(client.webhooks[':id'].deliveries[':messageId'].resend.$post({ param: { id: endpointId, messageId: d.messageId } }));
      onResent();
    });
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
