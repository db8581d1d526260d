/**
 * Cache hits per process: one Trove HTTP process serving a cached ~40 KB derivative from memory (the
 * fast lane) against one bare `node:http` process answering every request with the same Buffer and
 * the same headers, the ceiling of any Node hit path. wrk, 64 keep-alive connections, one client
 * thread; rounds alternate between the servers because throughput drifts on shared machines, and
 * every round's ratio is printed next to the medians. Besides requests per second, each server's own
 * CPU time per request is read from /proc: it measures the cost of a hit even while other programs
 * share the cores, so its ratio is the steadier figure of what one process can serve. A third server
 * is a Trove process with the delivery role alone on the same data (what a delivery tier runs).
 *
 *   npm run build && npx tsx bench/hits.bench.ts     (BENCH_ROUNDS=5 BENCH_SECONDS=6)
 */
import { execFileSync, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { RATE_LIMITS_OFF, hasWrk, printTable, startTroveProcess } from './lib/trove-process.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const CONNECTIONS = 64;

interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  /** The server process's CPU time (user + system) per answered request, in microseconds. */
  cpuMicros: number;
}

/** utime + stime of a process, in clock ticks (1/100 s on Linux). */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * With taskset (Linux), every server runs on the last core and wrk on the first: otherwise the
 * kernel sometimes puts the client and the server on one core, and a round measures that instead.
 */
const PINNED = (() => {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return availableParallelism() >= 2;
  } catch {
    return false;
  }
})();

function pinServer(pid: number): void {
  if (PINNED) execFileSync('taskset', ['-a', '-cp', String(availableParallelism() - 1), String(pid)], { stdio: 'ignore' });
}

function wrk(url: string, seconds: number, pid: number): LoadResult {
  const before = cpuTicks(pid);
  const out = execFileSync(PINNED ? 'taskset' : 'wrk', [...(PINNED ? ['-c', '0', 'wrk'] : []),'-t', '1', '-c', String(CONNECTIONS), '-d', `${seconds}s`, '--latency', url], { encoding: 'utf8' });
  const ticks = cpuTicks(pid) - before;
  const toMs = (value: string, unit: string) => Number(value) * (unit === 's' ? 1000 : unit === 'us' ? 0.001 : 1);
  const pick = (p: string) => {
    const match = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    return match ? toMs(match[1]!, match[2]!) : NaN;
  };
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]), p50: pick('50'), p99: pick('99'), cpuMicros: (ticks * 10_000) / requests };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function startBareNode(file: string, port: number): Promise<{ pid: number; stop: () => void }> {
  const child = fork(path.resolve('bench/peers/node-memory-server.ts'), [file, String(port), '1'], { execArgv: ['--import', 'tsx'], stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`node-memory-server exited with ${code}`)));
  });
  return { pid: child.pid!, stop: () => child.kill() };
}

async function main(): Promise<void> {
  if (!hasWrk()) throw new Error('wrk is needed (apt-get install wrk)');
  const work = await mkdtemp(path.join(tmpdir(), 'trove-hits-'));
  const trove = await startTroveProcess({ dataDir: path.join(work, 'data'), port: 3961, env: { ...RATE_LIMITS_OFF, TROVE_WORKERS: '1', LOG_LEVEL: 'warn' } });
  let bareNode: { pid: number; stop: () => void } | null = null;
  let deliveryOnly: Awaited<ReturnType<typeof startTroveProcess>> | null = null;
  try {
    const photo = await sharp({ create: { width: 2400, height: 1600, channels: 3, background: '#6a8' } })
      .composite([{ input: Buffer.from(`<svg width="2400" height="1600"><circle cx="1200" cy="800" r="600" fill="#c42"/></svg>`) }])
      .jpeg({ quality: 92 })
      .toBuffer();
    const form = new FormData();
    form.set('UPLOADCARE_PUB_KEY', trove.publicKey);
    form.set('file', new Blob([new Uint8Array(photo)]), 'hit.jpg');
    const uploaded = (await (await fetch(`${trove.uploadUrl}/base/`, { method: 'POST', body: form })).json()) as { file: string };
    // Large enough for a ~40 KB answer, as the delivery targets are stated for.
    const url = `${trove.url}/${uploaded.file}/-/resize/1400x/-/format/jpeg/-/quality/best/`;
    let body = Buffer.alloc(0);
    for (let i = 0; i < 3; i += 1) body = Buffer.from(await (await fetch(url)).arrayBuffer());
    const file = path.join(work, 'derivative.jpg');
    await writeFile(file, body);
    bareNode = await startBareNode(file, 3962);
    // The same SQLite file and blob folder (SQLite allows several processes), so the file is found.
    deliveryOnly = await startTroveProcess({ dataDir: path.join(work, 'data'), port: 3963, env: { ...RATE_LIMITS_OFF, TROVE_WORKERS: '1', TROVE_ROLES: 'delivery', LOG_LEVEL: 'warn' } });
    const deliveryUrl = url.replace(trove.url, deliveryOnly.url);
    for (let i = 0; i < 3; i += 1) await (await fetch(deliveryUrl)).arrayBuffer();
    const servers = [
      { name: `Trove, 1 process, every role (${body.length} B, memory hit)`, url, pid: trove.pid },
      { name: 'Trove, 1 process, delivery role only', url: deliveryUrl, pid: deliveryOnly.pid },
      { name: 'bare node:http, 1 process, Buffer in memory', url: 'http://127.0.0.1:3962/derivative.jpg', pid: bareNode.pid },
    ];
    for (const server of servers) pinServer(server.pid);
    for (const server of servers) wrk(server.url, 2, server.pid);
    const results = new Map<string, LoadResult[]>(servers.map((server) => [server.name, []]));
    const ratios: Array<{ rps: number; cpu: number }> = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      // Alternate which server goes first, so neither always follows the other's warm-up.
      const order = round % 2 === 0 ? servers : [...servers].reverse();
      for (const server of order) results.get(server.name)!.push(wrk(server.url, SECONDS, server.pid));
      const [ours, , theirs] = servers.map((server) => results.get(server.name)!.at(-1)!);
      ratios.push({ rps: ours!.rps / theirs!.rps, cpu: theirs!.cpuMicros / ours!.cpuMicros });
    }
    const bare = median(results.get(servers[2]!.name)!.map((r) => r.rps));
    const bareCpu = median(results.get(servers[2]!.name)!.map((r) => r.cpuMicros));
    printTable(
      `Cache hits per process, ${CONNECTIONS} keep-alive connections, wrk, ${ROUNDS} alternating rounds of ${SECONDS} s${PINNED ? ', servers on the last core and wrk on the first' : ''} (target: Trove ≥ 0.9× bare)`,
      servers.map((server) => {
        const runs = results.get(server.name)!;
        const rps = median(runs.map((r) => r.rps));
        return {
          server: server.name,
          'median requests/s': rps.toFixed(0),
          'median p50 ms': median(runs.map((r) => r.p50)).toFixed(2),
          'median p99 ms': median(runs.map((r) => r.p99)).toFixed(2),
          '× bare (req/s)': (rps / bare).toFixed(3),
          'CPU µs/request': median(runs.map((r) => r.cpuMicros)).toFixed(1),
          '× bare (requests per CPU second)': (bareCpu / median(runs.map((r) => r.cpuMicros))).toFixed(3),
        };
      }),
    );
    console.log('(per round: the every-role process against the bare one)');
    console.log(`Trove / bare, requests/s per round: ${ratios.map((r) => r.rps.toFixed(3)).join(' ')} (median ${median(ratios.map((r) => r.rps)).toFixed(3)})`);
    console.log(`Trove / bare, requests per CPU second per round: ${ratios.map((r) => r.cpu.toFixed(3)).join(' ')} (median ${median(ratios.map((r) => r.cpu)).toFixed(3)})`);
  } finally {
    bareNode?.stop();
    await deliveryOnly?.stop();
    await trove.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
