// fauxqs (SQS emulator) for the compose stack, quiet, with the ingest queue and its
// DLQ created from FAUXQS_INIT before the health check can pass.
//
// startFauxqs() listens on 0.0.0.0 (all interfaces of the container): the other
// services reach it as http://sqs:4566 over the compose network `internal`, which
// is not published. Queue URLs are http://sqs.<region>.<FAUXQS_HOST>:<port>/000000000000/<name>
// and only that exact string is accepted as QueueUrl; clients always POST to the
// endpoint (AWS_ENDPOINT_URL=http://sqs:4566) with the QueueUrl in the JSON body,
// so the URL's host name never has to resolve.
//
// Environment (read by fauxqs): FAUXQS_PORT (4566), FAUXQS_HOST (host part of queue
// URLs), FAUXQS_DEFAULT_REGION (us-east-1), FAUXQS_INIT (init JSON path).
// SQS_LOG=true logs every request. State is in memory: a restart recreates empty queues.
import { startFauxqs } from 'fauxqs';

const server = await startFauxqs({ logger: process.env.SQS_LOG === 'true' });
const stop = async () => {
  try { await server.stop(); } finally { process.exit(0); }
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdout.write(`sqs emulator: listening on ${server.address} (init ${process.env.FAUXQS_INIT ?? 'none'})\n`);
