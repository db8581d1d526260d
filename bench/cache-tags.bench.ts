/**
 * What the cache-tag headers cost a memory hit: the fast lane writes headers prepared once per
 * cached derivative, so the only per-request difference is two more header lines. Two bare
 * node:http servers answer the same 2 KB body with the fast lane's prepared header set, one without
 * and one with `Surrogate-Key`/`Cache-Tag` (tags of realistic length), measured in alternating
 * rounds so the shared machine's drift falls on both. Loopback throughput on a shared machine is noisy,
 * so a second table times the header write itself (writeHead + end into an unconnected response,
 * where Node validates and serialises every header) in alternating batches.
 *
 *   npx tsx bench/cache-tags.bench.ts            (BENCH_SECONDS=2 BENCH_ROUNDS=3 BENCH_CONNECTIONS=32)
 */
import http, { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import { cacheTagHeaders, deliveryTags } from '../src/domain/cache-tags.js';
import { CORS_EXPOSED_HEADERS, DELIVERY_SECURITY_HEADERS, STORED_CACHE } from '../src/http/delivery/response-headers.js';
import { printTable } from './lib/trove-process.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);

const body = Buffer.alloc(2048, 7);
const uuid = '3addab78-6368-4c55-ac08-22412b6a2a4c';
const etag = '"0f343b0931126a20f133d67c2b018a3b-auto-webp"';
const base: Record<string, string | number> = {
  ...DELIVERY_SECURITY_HEADERS,
  'access-control-expose-headers': CORS_EXPOSED_HEADERS,
  etag,
  'cache-control': STORED_CACHE,
  vary: 'Accept',
  'content-type': 'image/webp',
  'content-length': body.length,
  'content-disposition': 'inline',
};
const tagged = { ...base, ...cacheTagHeaders(deliveryTags({ projectId: '6f1c2d3e-4b5a-4c6d-8e7f-8091a2b3c4d5', uuid, variant: etag.slice(1, -1) })) };

async function serve(headers: Record<string, string | number>): Promise<http.Server> {
  const server = http.createServer((_request, response) => {
    response.writeHead(200, headers);
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function rps(server: http.Server): Promise<number> {
  const { port } = server.address() as AddressInfo;
  const result = await autocannon({ url: `http://127.0.0.1:${port}/`, connections: CONNECTIONS, duration: SECONDS });
  return result.requests.average;
}

/** Nanoseconds per writeHead + end of one answer with these headers, over `count` answers. */
function writeCost(headers: Record<string, string | number>, count: number): number {
  const request = new IncomingMessage(new Socket());
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const response = new ServerResponse(request);
    response.writeHead(200, headers);
    response.end(body);
  }
  return Number(process.hrtime.bigint() - started) / count;
}

function headerWriteTable(): void {
  writeCost(base, 20_000);
  writeCost(tagged, 20_000);
  const rows: Array<Record<string, string | number>> = [];
  for (let round = 1; round <= 7; round++) {
    const first = round % 2 === 1;
    const a = first ? writeCost(base, 50_000) : 0;
    const b = writeCost(tagged, 50_000);
    const c = first ? a : writeCost(base, 50_000);
    rows.push({ round, 'without tags ns': c.toFixed(0), 'with tags ns': b.toFixed(0), 'extra ns': (b - c).toFixed(0), ratio: (b / c).toFixed(3) });
  }
  const sorted = rows.map((row) => Number(row.ratio)).sort((x, y) => x - y);
  const extras = rows.map((row) => Number(row['extra ns'])).sort((x, y) => x - y);
  printTable('Header write per answer, in process (ratio = with / without)', [
    ...rows,
    { round: 'median', 'without tags ns': '', 'with tags ns': '', 'extra ns': extras[3]!.toFixed(0), ratio: sorted[3]!.toFixed(3) },
  ]);
}

async function main() {
  headerWriteTable();
  const without = await serve(base);
  const withTags = await serve(tagged);
  try {
    await rps(without);
    await rps(withTags);
    const rows: Array<Record<string, string | number>> = [];
    for (let round = 1; round <= ROUNDS; round++) {
      // Alternate which goes first, so neither always meets the machine in the same state.
      const first = round % 2 === 1;
      const a = first ? await rps(without) : 0;
      const b = await rps(withTags);
      const c = first ? a : await rps(without);
      rows.push({ round, 'without tags req/s': c.toFixed(0), 'with tags req/s': b.toFixed(0), ratio: (b / c).toFixed(3) });
    }
    const ratios = rows.map((row) => Number(row.ratio));
    printTable(`Memory-hit headers, bare node:http, ${CONNECTIONS} connections, ${SECONDS}s × ${ROUNDS} rounds (ratio = with / without)`, [
      ...rows,
      { round: 'median', 'without tags req/s': '', 'with tags req/s': '', ratio: ratios.sort((x, y) => x - y)[Math.floor(ratios.length / 2)]!.toFixed(3) },
    ]);
  } finally {
    without.close();
    withTags.close();
  }
}

await main();
