import { Link, Route, Router, Switch, useLocation } from 'wouter-preact';
import { useHashLocation } from 'wouter-preact/use-hash-location';
import type { ComponentChildren } from 'preact';
import type { CouponClient } from '@coupons/client';
import { ApiContext } from './api/client.ts';
import type { Session } from './auth/session.ts';
import { SignOutContext } from './components/sign-out-context.ts';
import { BooksPage } from './pages/books.tsx';
import { BookPage } from './pages/book.tsx';
import { CodePage } from './pages/code.tsx';
import { WebhooksPage } from './pages/webhooks.tsx';
import { DeliveriesPage } from './pages/deliveries.tsx';
import { ApiKeysPage } from './pages/api-keys.tsx';
import { NotFoundPage } from './pages/not-found.tsx';

/**
 * The signed-in console: one navigation landmark, one main region, a page per route. Routes live
 * in the URL's fragment (`#/books/…`), so the same files work at any path of any static host
 * with no rewrite rules, and a page can be bookmarked or reloaded.
 */
export function App({ client, session, onSignOut }: { client: CouponClient; session: Session; onSignOut: () => Promise<void> }) {
  return (
    <ApiContext.Provider value={client}>
      <SignOutContext.Provider value={onSignOut}>
        <Router hook={useHashLocation}>
          {/* biome-ignore lint/a11y/useValidAnchor: a skip link is a link by convention; the hash router owns the fragment, so the click focuses main itself */}
          <a
            class="skip-link"
            href="#main"
            onClick={(e) => {
              e.preventDefault();
              document.getElementById('main')?.focus();
            }}
          >
            Skip to content
          </a>
          <header class="app-header">
            <nav aria-label="Main" class="container">
              <ul>
                <li>
                  <strong class="brand">Coupon console</strong>
                </li>
                <NavLink href="/" current={(l) => l === '/' || l.startsWith('/books/') || l.startsWith('/codes/')}>
                  Books
                </NavLink>
                <NavLink href="/webhooks" current={(l) => l.startsWith('/webhooks')}>
                  Webhooks
                </NavLink>
                <NavLink href="/api-keys" current={(l) => l === '/api-keys'}>
                  API keys
                </NavLink>
              </ul>
              <ul>
                <li class="who">
                  <span>
                    {session.who.sub}
                    {session.who.tenant ? <small class="muted"> · {session.who.tenant}</small> : null}
                    {session.who.role ? <small class="muted"> · {session.who.role}</small> : null}
                  </span>
                </li>
                <li>
                  <button type="button" class="outline secondary small" onClick={() => void onSignOut()}>
                    Sign out
                  </button>
                </li>
              </ul>
            </nav>
          </header>
          <main id="main" class="container" tabIndex={-1}>
            <Switch>
              <Route path="/" component={BooksPage} />
              <Route path="/books/:bookId">{(p) => <BookPage bookId={decodeURIComponent(p.bookId)} />}</Route>
              <Route path="/codes/:code">{(p) => <CodePage code={decodeURIComponent(p.code)} />}</Route>
              <Route path="/webhooks" component={WebhooksPage} />
              <Route path="/webhooks/:id">{(p) => <DeliveriesPage endpointId={decodeURIComponent(p.id)} />}</Route>
              <Route path="/api-keys" component={ApiKeysPage} />
              <Route component={NotFoundPage} />
            </Switch>
          </main>
        </Router>
      </SignOutContext.Provider>
    </ApiContext.Provider>
  );
}

function NavLink({ href, current, children }: { href: string; current: (location: string) => boolean; children: ComponentChildren }) {
  const [location] = useLocation();
  return (
    <li>
      <Link href={href} aria-current={current(location) ? 'page' : undefined}>
        {children}
      </Link>
    </li>
  );
}
