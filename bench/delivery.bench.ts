/**
 * Original delivery of a 100 KB file over keep-alive: requests/s and latency percentiles, with wrk
 * (Debian package `wrk`) when installed, else autocannon. The server runs as its own process.
 *
 *   npm run build && npm run bench:delivery          (BENCH_SECONDS=10 BENCH_CONNECTIONS=64)
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import autocannon from 'autocannon';
import { RATE_LIMITS_OFF, hasWrk, printTable, startTroveProcess } from './lib/trove-process.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);

function runWrk(url: string, seconds = SECONDS): { rps: number; p50: number; p99: number } {
  const out = execFileSync('wrk', ['-t', '1', '-c', String(CONNECTIONS), '-d', `${seconds}s`, '--latency', url], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const toMs = (v: string, unit: string) => Number(v) * (unit === 's' ? 1000 : unit === 'us' ? 0.001 : 1);
  const pick = (p: string) => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    return m ? toMs(m[1]!, m[2]!) : NaN;
  };
  return { rps, p50: pick('50'), p99: pick('99') };
}

async function runAutocannon(url: string): Promise<{ rps: number; p50: number; p99: number }> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, pipelining: 1 });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

async function main() {
  const work = await mkdtemp(path.join(process.cwd(), '.tmp-bench-delivery-'));
  const trove = await startTroveProcess({ dataDir: path.join(work, 'data'), port: 3902, env: { ...RATE_LIMITS_OFF } });
  try {
    const form = new FormData();
    form.set('UPLOADCARE_PUB_KEY', trove.publicKey);
    form.set('file', new Blob([randomBytes(100 * 1000)]), 'file.bin');
    const { file } = (await (await fetch(`${trove.uploadUrl}/base/`, { method: 'POST', body: form })).json()) as { file: string };
    const url = `${trove.url}/${file}/`;
    await fetch(url);
    const tool = hasWrk() ? 'wrk' : 'autocannon';
    const run = () => (tool === 'wrk' ? Promise.resolve(runWrk(url)) : runAutocannon(url));
    // A first run warms the JIT and the caches; its numbers describe a cold process, not steady state.
    await run();
    const result = await run();
    printTable(`Original delivery, 100 KB file, ${CONNECTIONS} keep-alive connections, ${SECONDS}s (${tool})`, [
      {
        'requests/s': result.rps.toFixed(0),
        'p50 ms': result.p50.toFixed(2),
        'p99 ms': result.p99.toFixed(2),
        'MB/s': ((result.rps * 100_000) / 1e6).toFixed(0),
        'server peak RSS MiB': trove.peakRssMiB().toFixed(0),
      },
    ]);
    console.log(`server: ${trove.limits}`);
  } finally {
    await trove.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
