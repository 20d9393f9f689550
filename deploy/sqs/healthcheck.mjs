// Healthy when fauxqs answers and the ingest queue and its DLQ exist.
const port = process.env.FAUXQS_PORT ?? '4566';
try {
  const r = await fetch(`http://127.0.0.1:${port}/_fauxqs/queues`);
  const names = r.ok ? (await r.json()).map((q) => q.name) : [];
  process.exit(names.includes('ingest') && names.includes('ingest-dlq') ? 0 : 1);
} catch {
  process.exit(1);
}
