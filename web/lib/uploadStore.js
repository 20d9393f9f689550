'use client';
// Uploads live outside React so that moving to another screen of the app
// (client-side navigation) neither aborts an upload nor forgets its run.
import { useSyncExternalStore } from 'react';
import { uploadFile } from './api';
import { isPlainObject } from './format';

const MAX_PARALLEL = 3;
let items = []; // newest first
let seq = 0;
const listeners = new Set();
const queue = [];
let active = 0;

function emit() {
  listeners.forEach((l) => l());
}

function patch(key, changes) {
  items = items.map((it) => (it.key === key ? { ...it, ...changes } : it));
  emit();
}

function subscribe(l) {
  listeners.add(l);
  return () => listeners.delete(l);
}

const EMPTY = [];
export function useUploads() {
  return useSyncExternalStore(subscribe, () => items, () => EMPTY);
}

export function nextKey() {
  seq += 1;
  return `u${seq}`;
}

function pump() {
  while (active < MAX_PARALLEL && queue.length) {
    const it = queue.shift();
    active += 1;
    run(it).finally(() => {
      active -= 1;
      pump();
    });
  }
}

function run(item) {
  patch(item.key, { phase: 'uploading' });
  const { promise } = uploadFile(item.file, {
    title: item.title,
    onProgress: (loaded, total) => patch(item.key, { loaded, total }),
  });
  return promise
    .then(({ status, data }) => {
      const d = isPlainObject(data) ? data : {};
      patch(item.key, {
        phase: 'sent',
        httpStatus: status,
        loaded: item.file.size,
        runId: typeof d.run_id === 'string' ? d.run_id : null,
        docId: typeof d.doc_id === 'string' ? d.doc_id : null,
        initialStatus: typeof d.status === 'string' ? d.status : null,
        reason: typeof d.reason === 'string' ? d.reason : null,
      });
    })
    .catch((err) => {
      const body = err && isPlainObject(err.body) ? err.body : {};
      patch(item.key, {
        phase: 'error',
        error: err,
        runId: typeof body.run_id === 'string' ? body.run_id : null,
      });
    });
}

/** files: [{key, file}] ; title applies to each. */
export function startUploads(files, title) {
  const batch = files.map(({ key, file }) => ({
    key,
    file,
    title,
    phase: 'waiting',
    loaded: 0,
    total: file.size,
  }));
  items = [...batch.slice().reverse(), ...items];
  emit();
  queue.push(...batch);
  pump();
}

/**
 * Files refused in the browser before sending (too large, empty): listed with the
 * uploads in the same error state a refusal by the server would give, never sent.
 * rejected: [{key, file, error, refused}] (refused: 'too_large' | 'empty').
 */
export function rejectUploads(rejected) {
  if (!rejected.length) return;
  const batch = rejected.map(({ key, file, error, refused }) => ({
    key,
    file,
    phase: 'error',
    error,
    refused,
    loaded: 0,
    total: file.size,
    runId: null,
  }));
  items = [...batch.slice().reverse(), ...items];
  emit();
}

export function clearFinished(isDone) {
  items = items.filter((it) => !isDone(it));
  emit();
}
