import { useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { unwrap } from '@coupons/client';
import { useApi } from '../api/client.ts';
import type { CodeDetails, HistoryEntry } from '../api/types.ts';
import { ACTIONS, DataTable } from '../components/data-table.tsx';
import { ResourceStatus } from '../components/resource-status.tsx';
import { RollbackDialog } from '../components/rollback-dialog.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { Time } from '../components/time.tsx';
import { count } from '../lib/format.ts';
import { useResource } from '../lib/use-resource.ts';
import { useTitle } from '../lib/use-title.ts';

/** The history is built from the change stream, a second or two behind: read again this often. */
const REFRESH_MS = 3000;
/** The API answers a code's history in pages of up to 1,000 changes: the page reads this many of them at most. */
const HISTORY_PAGE = 1000;
const HISTORY_PAGES = 10;

const EVENT_NAMES: Record<HistoryEntry['type'], string> = {
  assigned: 'Assigned',
  locked: 'Locked',
  unlocked: 'Unlocked',
  redeemed: 'Redeemed',
  rolledBack: 'Rolled back',
};

export function CodePage({ code }: { code: string }) {
  useTitle(code);
  const client = useApi();
  const details = useResource(
    async (): Promise<CodeDetails> => {
      const read = (cursor?: string) =>
        unwrap(client.coupons.codes[':code'].$get({ param: { code }, query: { limit: String(HISTORY_PAGE), ...(cursor ? { cursor } : {}) } }));
      const first = await read();
      const history = [...first.history];
      let cursor = first.nextCursor;
      for (let n = 1; cursor && n < HISTORY_PAGES; n++) {
        const page = await read(cursor);
        history.push(...page.history);
        cursor = page.nextCursor;
      }
      return { ...first, history, nextCursor: cursor };
    },
    [code],
    { refreshMs: REFRESH_MS },
  );
  const view = details.data;
  const bookName = useResource(
    async () => (view ? (await unwrap(client.coupons[':bookId'].$get({ param: { bookId: view.bookId } }))).name : undefined),
    [view?.bookId],
  );
  const [rollingBack, setRollingBack] = useState<HistoryEntry>();
  const [done, setDone] = useState<string>();

  return (
    <>
      <p class="crumbs">
        <Link href="/">Books</Link> /{' '}
        {view ? <Link href={`/books/${encodeURIComponent(view.bookId)}`}>{bookName.data ?? 'Book'}</Link> : null}
      </p>
      <h1 class="code-title">{code}</h1>
      <ResourceStatus resource={details} failed={view ? 'The code could not be read again.' : 'The code could not be read.'} reading="Reading the code…" />
      {done ? (
        <p role="status" class="notice success">
          {done}
        </p>
      ) : null}
      {view ? (
        <>
          <CodeSummary view={view} />
          <History view={view} onRollback={setRollingBack} />
        </>
      ) : null}
      {rollingBack?.redemptionId ? (
        <RollbackDialog
          redemptionId={rollingBack.redemptionId}
          onClose={() => setRollingBack(undefined)}
          onDone={(result) => {
            setRollingBack(undefined);
            setDone(`Redemption ${result.redemptionId} rolled back: ${result.redemptionCount} of ${result.maxRedemptions} redemptions used now.`);
            void details.reload();
          }}
        />
      ) : null}
    </>
  );
}

function CodeSummary({ view }: { view: CodeDetails }) {
  // An available code has no holder, no assignment and no lock (the API's CodeDetails is a union on status).
  const held = view.status === 'available' ? undefined : view;
  return (
    <dl class="settings">
      <div>
        <dt>Status</dt>
        <dd>
          <StatusBadge status={view.status} />
        </dd>
      </div>
      <div>
        <dt>Holder</dt>
        <dd>{held?.userId ?? <span class="muted">nobody yet</span>}</dd>
      </div>
      <div>
        <dt>Assigned</dt>
        <dd>
          <Time iso={held?.assignedAt} />
        </dd>
      </div>
      <div>
        <dt>Redemptions</dt>
        <dd>
          {count(view.redemptionCount)} of {count(view.maxRedemptions)}
        </dd>
      </div>
      <div>
        <dt>Lock expires</dt>
        <dd>
          <Time iso={held?.lockExpiresAt} />
        </dd>
      </div>
      <div>
        <dt>Valid until</dt>
        <dd>{view.validUntil ? <Time iso={view.validUntil} /> : 'no end'}</dd>
      </div>
    </dl>
  );
}

function History({ view, onRollback }: { view: CodeDetails; onRollback: (entry: HistoryEntry) => void }) {
  const rolledBack = new Set(view.history.filter((h) => h.type === 'rolledBack').map((h) => h.redemptionId));
  return (
    <section aria-labelledby="history-heading">
      <h2 id="history-heading">History</h2>
      {view.nextCursor ? <p>The first {count(view.history.length)} changes, oldest first.</p> : null}
      {view.history.length === 0 ? (
        <p>Nothing has happened to this code yet.</p>
      ) : (
        <DataTable labelledBy="history-heading" compact columns={['Event', 'When', 'By', 'User', 'Order', 'Reason', ACTIONS]}>
          {view.history.map((h, i) => (
            <tr key={`${h.at}-${i}`}>
              <th scope="row">{EVENT_NAMES[h.type]}</th>
              <td>
                <Time iso={h.at} />
              </td>
              <td>{h.by}</td>
              <td>{h.userId ?? ''}</td>
              <td>{h.orderId ?? ''}</td>
              <td>{h.reason ?? ''}</td>
              <td>
                {h.type === 'redeemed' && h.redemptionId && !rolledBack.has(h.redemptionId) ? (
                  <button type="button" class="secondary outline small" aria-describedby={`redemption-${i}`} onClick={() => onRollback(h)}>
                    Roll back
                  </button>
                ) : null}
                {h.redemptionId ? (
                  <span id={`redemption-${i}`} class="visually-hidden">
                    redemption {h.redemptionId}
                  </span>
                ) : null}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
      <p class="muted small">The history is written from the change stream and may trail the code by a second or two.</p>
    </section>
  );
}
