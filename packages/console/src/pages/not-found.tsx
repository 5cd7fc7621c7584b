import { Link } from 'wouter-preact';
import { useTitle } from '../lib/use-title.ts';

export function NotFoundPage() {
  useTitle('Not found');
  return (
    <>
      <h1>Not found</h1>
      <p>
        The console has no such page. <Link href="/">Back to the books</Link>
      </p>
    </>
  );
}
