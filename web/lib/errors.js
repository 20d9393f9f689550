// Plain-language explanations of the stable run failure codes (docs/api.md "Uploads and
// runs"; src/common/errors.h). An error reads "<code>: <detail>"; the detail only refines
// extract_failed (no text, a damaged file, a crashed extractor). Unknown codes get a
// generic line, never nothing.

const TABLE = {
  extract_failed: {
    title: 'The text could not be read from this file',
    what: 'Check that the file opens on your computer. If it does, press Retry; if it fails again, save it again (for example "Save as PDF") and upload the new copy.',
  },
  no_text: {
    title: 'The file contains no text to index',
    what: 'This is usually a scanned document or a picture of text. Upload a version with selectable text (run it through OCR first).',
  },
  corrupt: {
    title: 'The file is damaged or is not what its name says',
    what: 'Open it on your computer to check it. Export or save it again, then upload the new copy. Retrying the same file will fail the same way.',
  },
  unsupported_type: {
    title: 'This kind of file is not supported',
    what: 'Upload a PDF, Word (DOCX), HTML, Markdown or plain-text file.',
  },
  too_large: {
    title: 'The file, or the text inside it, is over the size limit',
    what: 'Split the document into smaller files, or ask an administrator to raise the limit.',
  },
  timeout: {
    title: 'Reading the file took too long',
    what: 'Press Retry: it may succeed when the system is less busy. Very large files may need to be split.',
  },
  embed_failed: {
    title: 'The search index could not be built (the embedding service did not answer)',
    what: 'This is on our side, not your file. Press Retry in a few minutes.',
  },
  store_failed: {
    title: 'The result could not be saved (the database was unavailable)',
    what: 'This is on our side, not your file. Press Retry in a few minutes.',
  },
  upload_missing: {
    title: 'The uploaded file is no longer stored',
    what: 'Upload the file again.',
  },
  invalid_message: {
    title: 'The job was malformed',
    what: 'Upload the file again; if it keeps happening, tell an administrator.',
  },
  stale_queued: {
    title: 'No worker picked the file up in time',
    what: 'Press Retry. If many uploads wait like this, tell an administrator (workers may be stopped).',
  },
  stale_running: {
    title: 'Processing stopped half way (a worker stopped)',
    what: 'Press Retry.',
  },
  enqueue_failed: {
    title: 'The file was received but could not be queued for processing',
    what: 'Press Retry in a few minutes.',
  },
  internal: {
    title: 'An unexpected error happened on our side',
    what: 'Press Retry; if it fails again, tell an administrator.',
  },
};

/** {code, detail, key, title, what} for an error string "code: detail" (null for none). */
export function explainError(error) {
  if (error == null || error === '') return null;
  const s = String(error);
  const i = s.indexOf(':');
  const code = (i >= 0 ? s.slice(0, i) : s).trim();
  const detail = i >= 0 ? s.slice(i + 1).trim() : '';
  let key = code;
  if (code === 'extract_failed') {
    if (/no text found/.test(detail)) key = 'no_text';
    else if (/exit \d+|not a valid zip|malformed|corrupt/.test(detail)) key = 'corrupt';
  }
  const row = TABLE[key] || {
    title: 'Processing failed',
    what: 'Press Retry; if it fails again, tell an administrator.',
  };
  return { code, detail, key, ...row };
}

/** Whether a Retry can help (a damaged or unsupported file fails the same way again). */
export function retryHelps(error) {
  const e = explainError(error);
  return !!e && !['corrupt', 'unsupported_type', 'too_large', 'no_text'].includes(e.key);
}
