'use client';
// The list table every screen uses (runs, documents, versions, users): header
// cells, one row per item, and the loading, error and empty states around it.
import AsyncState from './AsyncState';

/**
 * `rows`: the items, or null/undefined while not loaded yet (then `loading`, by
 * default "Loading…"; null shows nothing). `error`: shown above (ErrorMessage);
 * leave it out when the screen shows its error elsewhere. `columns`: header texts,
 * falsy entries skipped (optional columns). `row(item, index)` returns the <tr>
 * with its key. An empty list shows `empty` in a muted <p> with `emptyTestid`.
 */
export default function DataTable({ rows, error, loading, columns, row, testid, empty, emptyTestid }) {
  return (
    <AsyncState data={rows} error={error} loading={loading}>
      {(list) =>
        list.length ? (
          <div className="tablewrap">
            <table data-testid={testid}>
              <thead>
                <tr>
                  {columns.filter(Boolean).map((c) => (
                    <th scope="col" key={c}>
                      {c}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>{list.map(row)}</tbody>
            </table>
          </div>
        ) : (
          <p className="muted" data-testid={emptyTestid}>
            {empty}
          </p>
        )
      }
    </AsyncState>
  );
}
