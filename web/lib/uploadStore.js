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
const aborts = new Map(); // key -> abort() of an upload being sent

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
  const { promise, abort } = uploadFile(item.file, {
    title: item.title,
    docId: item.docId,
    onProgress: (loaded, total) => patch(item.key, { loaded, total }),
  });
  aborts.set(item.key, abort);
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
        phase: err && err.code === 'aborted' ? 'cancelled' : 'error',
        error: err,
        runId: typeof body.run_id === 'string' ? body.run_id : null,
      });
    })
    .finally(() => aborts.delete(item.key));
}

/** Cancel one upload: a waiting one is dropped from the queue, one being sent is aborted. */
export function cancelUpload(key) {
  const i = queue.findIndex((q) => q.key === key);
  if (i >= 0) {
    queue.splice(i, 1);
    patch(key, { phase: 'cancelled' });
    return;
  }
  const a = aborts.get(key);
  if (a) a();
}

/** True while bytes are still to be sent (the page warns before it is left). */
export function sending() {
  return items.some((it) => it.phase === 'waiting' || it.phase === 'uploading');
}

/** files: [{key, file, title?, docId?}]: each its own title; docId makes it a new version. */
export function startUploads(files) {
  const batch = files.map(({ key, file, title, docId }) => ({
    key,
    file,
    title: title || '',
    docId: docId || null,
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
