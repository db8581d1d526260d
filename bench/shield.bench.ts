/**
 * Hits through the shield cache (deploy/shield, Varnish) against hits on Trove's own fast lane and
 * against a bare node:http server answering the same bytes (the ceiling), side by side in
 * alternating rounds with wrk. The derivative is a format/auto one asked with a browser's Accept,
 * so the shield's Accept classing and Trove's `Vary: Accept` are on the measured path. Also checks
 * that no shield round reached Trove.
 *
 *   npm run build && npm run bench:shield   (BENCH_SECONDS=4 BENCH_ROUNDS=3 BENCH_CONNECTIONS=32)
 */
import { execFile, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { RATE_LIMITS_OFF, hasWrk, printTable, startTroveProcess } from './lib/trove-process.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ACCEPT = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';
const TROVE_PORT = 3921;
const SHIELD_PORT = 3922;
const CEILING_PORT = 3923;

/** Asynchronous: the ceiling server answers from this process while wrk runs. */
async function wrk(url: string): Promise<{ rps: number; p50: number; p99: number }> {
  const { stdout: out } = await promisify(execFile)('wrk', ['-t', '1', '-c', String(CONNECTIONS), '-d', `${SECONDS}s`, '--latency', '-H', `Accept: ${ACCEPT}`, url], {
    encoding: 'utf8',
  });
  const toMs = (v: string, unit: string) => Number(v) * (unit === 's' ? 1000 : unit === 'us' ? 0.001 : 1);
  const pick = (p: string) => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    return m ? toMs(m[1]!, m[2]!) : NaN;
  };
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]), p50: pick('50'), p99: pick('99') };
}

async function deliveredBytes(troveUrl: string): Promise<number> {
  const text = await (await fetch(`${troveUrl}/metrics`)).text();
  return [...text.matchAll(/^trove_delivery_bytes_total\{[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

async function main() {
  if (!hasWrk()) throw new Error('this benchmark needs wrk (apt-get install wrk)');
  const work = await mkdtemp(path.join(process.cwd(), '.tmp-bench-shield-'));
  // Varnish compiles its VCL and runs its cache as unprivileged users, who must reach its folder.
  await chmod(work, 0o755);
  const trove = await startTroveProcess({ dataDir: path.join(work, 'data'), port: TROVE_PORT, env: { ...RATE_LIMITS_OFF } });
  const shield = spawn('bash', ['deploy/shield/start.sh'], {
    env: { ...process.env, TROVE_ORIGIN: `127.0.0.1:${TROVE_PORT}`, SHIELD_LISTEN: `127.0.0.1:${SHIELD_PORT}`, SHIELD_WORK_DIR: path.join(work, 'shield'), SHIELD_CACHE_SIZE: '256M' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const killShield = () => shield.kill('SIGTERM');
  process.once('exit', killShield);
  let ceiling: http.Server | undefined;
  try {
    const form = new FormData();
    form.set('UPLOADCARE_PUB_KEY', trove.publicKey);
    form.set('UPLOADCARE_STORE', '1');
    const photo = await sharp({ create: { width: 1600, height: 1000, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 30 } } }).jpeg().toBuffer();
    form.set('file', new Blob([photo]), 'photo.jpg');
    const { file } = (await (await fetch(`${trove.uploadUrl}/base/`, { method: 'POST', body: form })).json()) as { file: string };
    const route = `/${file}/-/resize/400x/-/format/auto/`;
    const direct = await fetch(`${trove.url}${route}`, { headers: { accept: ACCEPT } });
    const body = Buffer.from(await direct.arrayBuffer());
    const headers = Object.fromEntries([...direct.headers.entries()].filter(([name]) => name !== 'date' && name !== 'connection' && name !== 'keep-alive'));
    ceiling = http.createServer((_request, response) => {
      response.writeHead(200, headers);
      response.end(body);
    });
    await new Promise<void>((resolve) => ceiling!.listen(CEILING_PORT, '127.0.0.1', resolve));

    const deadline = Date.now() + 30_000;
    while (!(await fetch(`http://127.0.0.1:${SHIELD_PORT}/shield-health`).then((r) => r.ok, () => false))) {
      if (Date.now() > deadline || shield.exitCode !== null) throw new Error('the shield did not start');
      await new Promise((r) => setTimeout(r, 200));
    }
    const viaShield = await fetch(`http://127.0.0.1:${SHIELD_PORT}${route}`, { headers: { accept: ACCEPT } });
    if (!Buffer.from(await viaShield.arrayBuffer()).equals(body)) throw new Error('the shield answered other bytes than Trove');

    const targets = {
      'node:http ceiling': `http://127.0.0.1:${CEILING_PORT}${route}`,
      'Trove fast lane': `${trove.url}${route}`,
      'shield hit': `http://127.0.0.1:${SHIELD_PORT}${route}`,
    } as const;
    const results: Record<string, { rps: number[]; p50: number[]; p99: number[] }> = {};
    let shieldReachedTrove = 0;
    await wrk(targets['shield hit']); // warm-up
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, url] of Object.entries(targets)) {
        const before = name === 'shield hit' ? await deliveredBytes(trove.url) : 0;
        const r = await wrk(url);
        if (name === 'shield hit') shieldReachedTrove += (await deliveredBytes(trove.url)) - before;
        const slot = (results[name] ??= { rps: [], p50: [], p99: [] });
        slot.rps.push(r.rps);
        slot.p50.push(r.p50);
        slot.p99.push(r.p99);
      }
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const ceilingRps = median(results['node:http ceiling']!.rps);
    printTable(`Hits on a ${body.length}-byte format/auto derivative, ${CONNECTIONS} keep-alive connections, ${ROUNDS} × ${SECONDS}s rounds (wrk, medians)`, Object.entries(results).map(([name, r]) => ({
      target: name,
      'requests/s': median(r.rps).toFixed(0),
      'vs ceiling': (median(r.rps) / ceilingRps).toFixed(2),
      'p50 ms': median(r.p50).toFixed(2),
      'p99 ms': median(r.p99).toFixed(2),
    })));
    console.log(`bytes Trove delivered during the shield rounds: ${shieldReachedTrove} (every shield request was a hit: 0)`);
  } finally {
    ceiling?.close();
    process.off('exit', killShield);
    if (shield.exitCode === null) {
      const exited = new Promise((resolve) => shield.once('exit', resolve));
      shield.kill('SIGTERM');
      await exited;
    }
    await trove.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
