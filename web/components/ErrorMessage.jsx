'use client';

/** A readable error from an ApiError, Error or string. Renders nothing for null. */
export default function ErrorMessage({ error, prefix }) {
  if (!error) return null;
  let msg;
  if (typeof error === 'string') msg = error;
  else if (error && typeof error.message === 'string' && error.message) msg = error.message;
  else msg = 'Something went wrong.';
  const code = error && typeof error === 'object' && error.code ? error.code : null;
  return (
    <div className="error" role="alert" data-testid="error">
      {prefix ? <strong>{prefix}: </strong> : null}
      {msg}
      {code && !String(code).startsWith('http_') && code !== 'network' ? (
        <span className="muted"> ({code})</span>
      ) : null}
    </div>
  );
}
