import { useState } from 'preact/hooks';
import type { SignedOut } from '../auth/session.ts';

/** Shown until someone is signed in: the identity provider's button, or how to get the local link. */
export function SignInPage({ signIn, hint, problem }: SignedOut) {
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState<string>();
  const shown = failed ?? problem;
  return (
    <main class="container sign-in">
      <article>
        <header>
          <h1>Coupon console</h1>
        </header>
        {shown ? (
          <p role="alert" class="notice error">
            {shown}
          </p>
        ) : null}
        {signIn ? (
          <button
            type="button"
            aria-busy={busy}
            disabled={busy}
            onClick={() => {
              setBusy(true);
              signIn().catch((e: unknown) => {
                setBusy(false);
                setFailed(`The identity provider could not be reached: ${e instanceof Error ? e.message : String(e)}`);
              });
            }}
          >
            Sign in
          </button>
        ) : null}
        {hint ? <p>{hint}</p> : null}
      </article>
    </main>
  );
}
