/**
 * What the separate transform tier adds to a miss: the same small derivative (a few-kB JPEG resize of
 * a 400×300 original) asked of an all-roles process, which transforms in process, and of a delivery
 * process whose misses go to two transform-only nodes over loopback (TROVE_TRANSFORM_NODES). Every
 * sample is a real miss (a width not asked before), requests go one at a time, and the two sides
 * alternate in rounds within one run, so the machine's load moves both alike. All four servers are
 * processes of their own on one SQLite file and one blob folder.
 *
 * The ceiling: a bare `node:http` process answering a POST of a job-sized JSON body with 3 KB, over a
 * keep-alive agent as the delivery process uses, timed in the same rounds. It is the least one more
 * loopback exchange between two processes costs on this machine at this moment; on a loaded machine
 * it is mostly the time the scheduler takes to wake each process.
 *
 *   npx tsx bench/transform-hop.bench.ts          (BENCH_SAMPLES=600 BENCH_ROUND=25)
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import path from 'node:path';
import sharp from 'sharp';
import { RATE_LIMITS_OFF, percentile, printTable, startTroveProcess, type TroveProcess } from './lib/trove-process.js';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 600);
const ROUND = Number(process.env.BENCH_ROUND ?? 25);
const SECRET = 'bench-transform-hop-internal-secret-0123456789';

async function upload(trove: TroveProcess, bytes: Buffer): Promise<string> {
  const form = new FormData();
  form.set('UPLOADCARE_PUB_KEY', trove.publicKey);
  form.set('UPLOADCARE_STORE', '1');
  form.set('file', new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }), 'bench.jpg');
  const response = await fetch(`${trove.uploadUrl}/base/`, { method: 'POST', body: form });
  if (!response.ok) throw new Error(`upload failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { file: string }).file;
}

/** One miss, timed from the request to the last byte. */
async function miss(url: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(url);
  await response.arrayBuffer();
  const elapsed = performance.now() - started;
  if (response.status !== 200) throw new Error(`${url}: ${response.status}`);
  return elapsed;
}

const BARE_SERVER = `
  require('node:http').createServer((req, res) => {
    req.on('data', () => {});
    req.on('end', () => { res.writeHead(200, { 'content-type': 'image/jpeg' }); res.end(Buffer.alloc(3000)); });
  }).listen(Number(process.argv[1]), '127.0.0.1', () => process.send ? process.send('up') : console.log('up'));
`;

const bareAgent = new Agent({ keepAlive: true, maxSockets: 4 });
const jobSizedBody = Buffer.from(JSON.stringify({ padding: 'x'.repeat(900) }));

/** One exchange with the bare server, as the delivery process makes one with a transform node. */
function bareExchange(port: number): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/', method: 'POST', agent: bareAgent, headers: { 'content-type': 'application/json', 'content-length': jobSizedBody.length } },
      (res) => {
        res.on('data', () => undefined);
        res.on('end', () => resolve(performance.now() - started));
      },
    );
    req.on('error', reject);
    req.end(jobSizedBody);
  });
}

/** CPU seconds (user + system) a process has used so far: a figure the machine's load does not inflate. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command name; clock ticks of 1/100 s.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function metricSum(trove: TroveProcess, name: string): Promise<number> {
  const text = await (await fetch(`${trove.url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(name))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

async function main() {
  const work = await mkdtemp(path.join(process.cwd(), '.tmp-bench-hop-'));
  const shared = {
    ...RATE_LIMITS_OFF,
    DATABASE_URL: `sqlite://${path.join(work, 'trove.db')}`,
    STORAGE_URL: `file://${path.join(work, 'blobs')}`,
    TROVE_INTERNAL_SECRET: SECRET,
    LOG_LEVEL: 'error',
  };
  const started: TroveProcess[] = [];
  const barePort = 3925;
  const bare = spawn(process.execPath, ['-e', BARE_SERVER, String(barePort)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => bare.stdout.once('data', () => resolve()));
  const start = async (name: string, port: number, env: Record<string, string>) => {
    const trove = await startTroveProcess({ dataDir: path.join(work, name), port, env: { ...shared, ...env }, fromSources: true });
    started.push(trove);
    return trove;
  };
  try {
    // The all-roles process creates the database first; the others open it already migrated.
    const allInOne = await start('all', 3921, {});
    const nodes = await Promise.all([
      start('t1', 3923, { TROVE_ROLES: 'transform', DATABASE_URL: '' }),
      start('t2', 3924, { TROVE_ROLES: 'transform', DATABASE_URL: '' }),
    ]);
    const front = await start('front', 3922, { TROVE_ROLES: 'upload,api,delivery', TROVE_TRANSFORM_NODES: nodes.map((n) => n.url).join(',') });

    const original = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
      .jpeg({ quality: 85 })
      .toBuffer();
    // One copy per side: each side's derivatives are its own, never found in the other's L2.
    const sides = [
      { name: 'all roles, in process', trove: allInOne, uuid: await upload(allInOne, original), times: [] as number[] },
      { name: 'delivery → 2 transform nodes', trove: front, uuid: await upload(allInOne, original), times: [] as number[] },
    ];
    let width = 16;
    const next = () => `-/resize/${width++}x/-/format/jpeg/-/quality/lighter/`;
    // Warm-up: JIT, connections, every process's source cache (each transform node gets a share).
    for (let i = 0; i < 40; i++) for (const side of sides) await miss(`${side.trove.url}/${side.uuid}/${next()}`);
    const bareTimes: number[] = [];
    for (let i = 0; i < 40; i++) await bareExchange(barePort);
    const engineOf = async (troves: TroveProcess[]) => {
      const sums = await Promise.all(troves.map((t) => metricSum(t, 'trove_transform_duration_seconds_sum')));
      const counts = await Promise.all(troves.map((t) => metricSum(t, 'trove_transform_duration_seconds_count')));
      return { seconds: sums.reduce((a, b) => a + b, 0), count: counts.reduce((a, b) => a + b, 0) };
    };
    const engineLocalBefore = await engineOf([allInOne]);
    const engineNodesBefore = await engineOf(nodes);
    const hopBefore = await metricSum(front, 'trove_transform_node_duration_seconds_sum');
    const hopCountBefore = await metricSum(front, 'trove_transform_node_duration_seconds_count');

    const cpuOf = (troves: TroveProcess[]) => troves.reduce((sum, t) => sum + cpuSeconds(t.pid), 0);
    const cpu = new Map<string, number>(sides.map((side) => [side.name, 0]));
    const processesOf = (side: (typeof sides)[number]) => (side.trove === front ? [front, ...nodes] : [allInOne]);
    for (let done = 0; done < SAMPLES; done += ROUND) {
      for (const side of done % (2 * ROUND) === 0 ? sides : [...sides].reverse()) {
        // Each process's background work (the L2 write) has ended before the next side's round starts.
        await new Promise((resolve) => setTimeout(resolve, 50));
        const before = cpuOf(processesOf(side));
        for (let i = 0; i < ROUND; i++) side.times.push(await miss(`${side.trove.url}/${side.uuid}/${next()}`));
        await new Promise((resolve) => setTimeout(resolve, 50));
        cpu.set(side.name, cpu.get(side.name)! + cpuOf(processesOf(side)) - before);
      }
      for (let i = 0; i < ROUND; i++) bareTimes.push(await bareExchange(barePort));
    }
    const hopSeconds = (await metricSum(front, 'trove_transform_node_duration_seconds_sum')) - hopBefore;
    const hops = (await metricSum(front, 'trove_transform_node_duration_seconds_count')) - hopCountBefore;
    const engineLocal = await engineOf([allInOne]);
    const engineNodes = await engineOf(nodes);
    const meanMs = (after: { seconds: number; count: number }, before: { seconds: number; count: number }) =>
      ((after.seconds - before.seconds) / (after.count - before.count)) * 1000;
    const perNode = await Promise.all(nodes.map((n) => metricSum(n, 'trove_transform_duration_seconds_count')));

    const stats = sides.map((side) => {
      const sorted = [...side.times].sort((a, b) => a - b);
      return { side, p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99) };
    });
    const [local, tiered] = stats as [(typeof stats)[number], (typeof stats)[number]];
    printTable(`Miss latency, one request at a time over keep-alive loopback, ${SAMPLES} misses per side in alternating rounds of ${ROUND}`, [
      ...stats.map(({ side, p50, p90, p99 }) => ({ side: side.name, samples: side.times.length, 'p50 ms': p50.toFixed(2), 'p90 ms': p90.toFixed(2), 'p99 ms': p99.toFixed(2) })),
      {
        side: 'added by the hop',
        samples: '',
        'p50 ms': (tiered.p50 - local.p50).toFixed(2),
        'p90 ms': (tiered.p90 - local.p90).toFixed(2),
        'p99 ms': (tiered.p99 - local.p99).toFixed(2),
      },
    ]);
    const bareSorted = [...bareTimes].sort((a, b) => a - b);
    printTable('Ceiling: one bare node:http exchange between two processes (job-sized POST, 3 KB answer), same rounds', [
      { samples: bareTimes.length, 'p50 ms': percentile(bareSorted, 50).toFixed(2), 'p90 ms': percentile(bareSorted, 90).toFixed(2), 'p99 ms': percentile(bareSorted, 99).toFixed(2) },
    ]);
    const cpuPerMiss = sides.map((side) => (cpu.get(side.name)! / side.times.length) * 1000);
    console.log(
      `CPU per miss, every server process of the side summed: in process ${cpuPerMiss[0]!.toFixed(2)} ms, tiered ${cpuPerMiss[1]!.toFixed(2)} ms, added ${(cpuPerMiss[1]! - cpuPerMiss[0]!).toFixed(2)} ms`,
    );
    console.log(`hop p50 added / bare exchange p50: ${((tiered.p50 - local.p50) / percentile(bareSorted, 50)).toFixed(2)}`);
    console.log(`ratio tiered/in-process: p50 ${(tiered.p50 / local.p50).toFixed(3)}, p90 ${(tiered.p90 / local.p90).toFixed(3)}`);
    console.log(`mean exchange with a transform node, as the delivery process timed it: ${((hopSeconds / hops) * 1000).toFixed(2)} ms over ${hops} jobs`);
    console.log(
      `mean engine time (ImageEngine.transform alone): in process ${meanMs(engineLocal, engineLocalBefore).toFixed(2)} ms, on the transform nodes ${meanMs(engineNodes, engineNodesBefore).toFixed(2)} ms`,
    );
    console.log(`transformations per transform node (warm-up included): ${perNode.join(' / ')}`);
    console.log(`target: p50 added < 2 ms → ${tiered.p50 - local.p50 < 2 ? 'met' : 'NOT met'}`);
  } finally {
    bareAgent.destroy();
    bare.kill('SIGTERM');
    for (const trove of started.reverse()) await trove.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
