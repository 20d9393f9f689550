'use client';
// The loading, error and loaded states of data a screen fetches, shown the same
// way on every screen: the error (role="alert"), a muted "Loading…" line while
// nothing has arrived, then the content.
import { Suspense } from 'react';
import ErrorMessage from './ErrorMessage';

/** The muted "Loading…" line. */
export function Loading() {
  return <p className="muted">Loading…</p>;
}

/**
 * The Suspense boundary a screen that reads the query string (useSearchParams)
 * needs in a static export, with "Loading…" as its fallback.
 */
export function Suspended({ children }) {
  return <Suspense fallback={<Loading />}>{children}</Suspense>;
}

/**
 * `data` null or undefined = not loaded yet. Shows the error (if any), then
 * `loading` while there is no data and no error (null shows nothing), then
 * `children(data)` once data has arrived. An error next to data keeps both (a
 * failed refresh leaves the last result on screen).
 */
export default function AsyncState({ data, error, loading = <Loading />, children }) {
  let body = null;
  if (data != null) body = children(data);
  else if (!error) body = loading;
  return (
    <>
      <ErrorMessage error={error} />
      {body}
    </>
  );
}
