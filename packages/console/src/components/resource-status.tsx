import type { Resource } from '../lib/use-resource.ts';
import { ErrorMessage } from './error-message.tsx';

/** What a page says while it reads something from the API, and if the read failed. */
export function ResourceStatus({ resource, failed, reading }: { resource: Resource<unknown>; failed: string; reading: string }) {
  return (
    <>
      {resource.error ? <ErrorMessage error={resource.error} prefix={failed} /> : null}
      {resource.loading ? <p aria-busy="true">{reading}</p> : null}
    </>
  );
}
