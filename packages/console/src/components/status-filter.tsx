import type { Pages } from './pager.tsx';

export interface StatusOption<S extends string> {
  value: S | '';
  label: string;
}

/**
 * A paged list's status filter. Choosing another status goes back to the first page: the cursors
 * seen so far belong to the old filter's list.
 */
export function StatusFilter<S extends string>({
  value,
  options,
  onChange,
  pages,
}: {
  value: S | '';
  options: StatusOption<S>[];
  onChange: (status: S | '') => void;
  pages: Pages;
}) {
  return (
    <label class="inline">
      Status
      <select
        value={value}
        onChange={(e) => {
          onChange(e.currentTarget.value as S | '');
          pages.reset();
        }}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </label>
  );
}
