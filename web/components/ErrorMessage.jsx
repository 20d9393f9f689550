'use client';

/** A readable error from an ApiError, Error or string. Renders nothing for null. */
export default function ErrorMessage({ error, prefix }) {
  if (!error) return null;
  let msg;
  if (typeof error === 'string') msg = error;
  else if (error && typeof error.message === 'string' && error.message) msg = error.message;
  else msg = 'Something went wrong.';
  const code = error && typeof error === 'object' && error.code ? String(error.code) : undefined;
  // The code stays out of the words (data-code, for tests and support), never "(unauthorized)".
  return (
    <div className="error" role="alert" data-testid="error" data-code={code}>
      {prefix ? <strong>{prefix}: </strong> : null}
      {msg}

    </div>
  );
}
