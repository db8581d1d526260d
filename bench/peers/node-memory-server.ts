/**
 * The ceiling for a Node hit path: `node:http` answering every request with one Buffer and
 * precomputed headers (the same headers Trove and nginx send). With one worker it is a single
 * process (its pid is the one to measure); with more, a `node:cluster` of that many. Peer of the hits
 * sections in bench/transform.bench.ts and bench/hits.bench.ts:
 * `tsx bench/peers/node-memory-server.ts <file> <port> [workers]`.
 */
import cluster from 'node:cluster';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [file, port, workerArg] = process.argv.slice(2);
if (!file || !port) throw new Error('usage: node-memory-server.ts <file> <port> [workers]');
const workers = Number(workerArg ?? 2);

function serve(onListening: () => void): void {
  const body = readFileSync(file!);
  const headers = {
    'content-type': 'image/jpeg',
    'content-length': String(body.length),
    etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"`,
    'cache-control': 'public, max-age=31536000, immutable',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox",
    'cross-origin-resource-policy': 'cross-origin',
    'access-control-allow-origin': '*',
    'content-disposition': 'inline',
  };
  createServer((_request, response) => {
    response.writeHead(200, headers);
    response.end(body);
  }).listen(Number(port), '127.0.0.1', onListening);
}

if (workers === 1) {
  serve(() => process.send?.('ready'));
} else if (cluster.isPrimary) {
  let listening = 0;
  for (let i = 0; i < workers; i += 1) {
    cluster.fork().once('listening', () => {
      listening += 1;
      if (listening === workers) process.send?.('ready');
    });
  }
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill();
    process.exit(0);
  });
} else {
  serve(() => undefined);
}
