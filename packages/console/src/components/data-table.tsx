import type { ComponentChildren } from 'preact';

/** A column's heading: its label, right-aligned for numbers, or read only by screen readers (an actions column). */
export type Column = string | { label: string; numeric?: boolean; hidden?: boolean };

/**
 * A striped table of rows from the API, scrolling sideways on narrow screens; named by `label`
 * or by the heading `labelledBy` points at. The rows are the caller's.
 */
export function DataTable({
  label,
  labelledBy,
  compact,
  columns,
  children,
}: {
  label?: string;
  labelledBy?: string;
  compact?: boolean;
  columns: Column[];
  children: ComponentChildren;
}) {
  return (
    <div class="table-scroll">
      <table class={compact ? 'striped compact' : 'striped'} aria-label={label} aria-labelledby={labelledBy}>
        <thead>
          <tr>
            {columns.map((c) => {
              const column = typeof c === 'string' ? { label: c } : c;
              return (
                <th key={column.label} scope="col" class={column.numeric ? 'num' : undefined}>
                  {column.hidden ? <span class="visually-hidden">{column.label}</span> : column.label}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** The last column of a table whose rows have buttons. */
export const ACTIONS: Column = { label: 'Actions', hidden: true };
