import { useContext } from 'preact/hooks';
import { problemOf } from '../api/errors.ts';
import { SignOutContext } from './sign-out-context.ts';

/** An error as the API said it: message, code, fields, request id; on 401 a way to sign in again. */
export function ErrorMessage({ error, prefix }: { error: unknown; prefix?: string }) {
  const signOut = useContext(SignOutContext);
  const p = problemOf(error);
  return (
    <div role="alert" class="notice error">
      <p>
        {prefix ? <strong>{prefix} </strong> : null}
        {p.message}
        {p.code ? (
          <small class="muted">
            {' '}
            ({p.code}
            {p.requestId ? `, request ${p.requestId}` : ''})
          </small>
        ) : null}
      </p>
      {p.fields ? (
        <ul>
          {p.fields.map((f) => (
            <li key={f.field}>
              <code>{f.field}</code>: {f.reason}
            </li>
          ))}
        </ul>
      ) : null}
      {p.status === 401 && signOut ? (
        <button type="button" class="secondary" onClick={() => void signOut()}>
          Sign in again
        </button>
      ) : null}
    </div>
  );
}
