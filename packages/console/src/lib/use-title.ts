import { useEffect } from 'preact/hooks';

/** The tab's title names the page, as a screen reader announces it on navigation. */
export function useTitle(title: string | undefined) {
  useEffect(() => {
    document.title = title ? `${title} · Coupon console` : 'Coupon console';
  }, [title]);
}
