/**
 * npm run fuzz -- --target url|form|rest|range [--cases N] [--seed S] [--connections C]
 *                 [--deadline MS] [--start I] [--out DIR] [--replay I[,J…]] [--dump I] [--no-shrink]
 *                 [--survive-crashes]
 *
 * Starts a throwaway Trove in a child process, creates fixtures through its APIs, sends N generated
 * requests and reports counts by status, the server's peak RSS and every failure (5xx, no answer
 * within the deadline, a dropped connection, a 4xx without a JSON message, a wrong 206). Case I of
 * seed S is the same request on every run: `--replay I` sends just that one, `--dump I` prints it.
 * SIGINT/SIGTERM end a run early with a report of what was sent (resume with --start).
 * `--survive-crashes` keeps the server alive through exceptions nothing caught (each still counts
 * as a failure), so a frequent crash cannot end a long run; otherwise a crash restarts the server.
 * Exit code: 0 clean, 1 new failures, 3 only failures listed as known.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createFixtures } from './fixtures.js';
import { generateCase, runFuzz, sendOnce, spawnServer, type RunReport } from './harness.js';
import { framingIsAmbiguous, printable, serialize } from './http-client.js';
import { judge } from './oracle.js';
import { TARGETS } from './targets/index.js';

const { values } = parseArgs({
  options: {
    target: { type: 'string' },
    cases: { type: 'string', default: '1000000' },
    seed: { type: 'string', default: '1' },
    start: { type: 'string', default: '0' },
    connections: { type: 'string', default: '12' },
    deadline: { type: 'string', default: '5000' },
    out: { type: 'string', default: path.join(tmpdir(), 'trove-fuzz') },
    replay: { type: 'string' },
    dump: { type: 'string' },
    'no-shrink': { type: 'boolean', default: false },
    'survive-crashes': { type: 'boolean', default: false },
  },
});

function integer(name: string, raw: string | undefined): number {
  const value = Number(raw);
  if (raw === undefined || !Number.isSafeInteger(value) || value < 0) {
    console.error(`--${name} must be a non-negative integer (got ${raw})`);
    process.exit(2);
  }
  return value;
}

const target = TARGETS[values.target ?? ''];
if (!target) {
  console.error(`usage: npm run fuzz -- --target ${Object.keys(TARGETS).join('|')} [--cases N] [--seed S] [--replay I | --dump I]`);
  process.exit(2);
}
const seed = integer('seed', values.seed);
const deadlineMs = integer('deadline', values.deadline);
await mkdir(values.out, { recursive: true });
const stem = path.join(values.out, `${target.name}-seed${seed}`);

const surviveCrashes = values['survive-crashes'];
let server = await spawnServer(`${stem}.server.log`, { surviveCrashes });
let restarts = 0;
let exitCode = 0;
try {
  const fixtures = await createFixtures(server.url);
  if (values.replay !== undefined || values.dump !== undefined) {
    const indexes = (values.replay ?? values.dump ?? '').split(',').map((raw) => integer('replay', raw));
    let dead: string | null = null;
    void server.exited.then((reason) => (dead = reason));
    let thrown: string | null = null;
    server.onUncaught((stack) => (thrown = stack));
    for (const index of indexes) {
      const fuzzCase = generateCase(target, fixtures, seed, index);
      const bytes = serialize(fuzzCase.request, `127.0.0.1:${server.port}`);
      console.log(`case ${index} of seed ${seed} (${fuzzCase.kind}${framingIsAmbiguous(fuzzCase.request) ? ', ambiguous framing' : ''}):\n${printable(bytes, 20_000)}\n`);
      if (values.replay === undefined) continue;
      const outcome = await sendOnce(server.port, fuzzCase.request, deadlineMs);
      if (outcome.kind === 'response') {
        console.log(`→ ${outcome.status} in ${outcome.ms.toFixed(0)} ms ${JSON.stringify(outcome.headers)}\n${printable(outcome.body, 2000)}`);
      } else console.log(`→ ${JSON.stringify(outcome)}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const verdict = judge(fuzzCase, outcome);
      console.log(
        dead
          ? `FAIL case ${index} killed the server: ${dead}\n${await server.logTail()}`
          : thrown
            ? `FAIL case ${index} threw an exception nothing caught (it would end a real Trove):\n${thrown}`
            : verdict.ok
              ? 'ok'
              : `FAIL ${verdict.signature}: ${verdict.detail}`,
      );
      if (dead || thrown || !verdict.ok) exitCode = 1;
      if (dead || thrown) break;
    }
  } else {
    let stopping = false;
    const stop = () => {
      console.log('stopping: finishing the requests in flight, then writing the report');
      stopping = true;
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    console.log(`fuzzing ${target.name}: ${values.cases} cases from index ${values.start}, seed ${seed}, ${values.connections} connections, deadline ${deadlineMs} ms; server log ${stem}.server.log`);
    const report = await runFuzz({
      target,
      fixtures,
      server,
      seed,
      cases: integer('cases', values.cases),
      start: integer('start', values.start),
      connections: integer('connections', values.connections),
      deadlineMs,
      shrink: !values['no-shrink'],
      shouldStop: () => stopping,
      progress: (line) => console.log(line),
      checkpoint: (partial) => void writeFile(`${stem}.partial.json`, JSON.stringify(partial, null, 2)).catch(() => undefined),
      restart: async () => {
        restarts++;
        console.log(`server died; starting another (log of the next one: ${stem}.server-${restarts}.log)`);
        server = await spawnServer(`${stem}.server-${restarts}.log`, { surviveCrashes });
        return { server, fixtures: await createFixtures(server.url) };
      },
    });
    await writeFile(`${stem}.json`, JSON.stringify(report, null, 2));
    console.log(summary(report));
    console.log(`report: ${stem}.json`);
    exitCode = report.serverExit !== null || report.failures > report.knownFailures ? 1 : report.failures > 0 ? 3 : 0;
  }
} finally {
  await server.close();
}
process.exit(exitCode);

function summary(report: RunReport): string {
  const mib = (bytes: number | null) => (bytes === null ? '?' : `${(bytes / 2 ** 20).toFixed(0)} MiB`);
  const lines = [
    `== ${report.target}: ${report.cases} cases, seed ${report.seed}, ${(report.durationMs / 1000).toFixed(0)} s (${report.casesPerSecond}/s)`,
    `statuses: ${Object.entries(report.statuses).sort((a, b) => b[1] - a[1]).map(([s, n]) => `${s}=${n}`).join(' ')}`,
    `server RSS: start ${mib(report.startRssBytes)}, peak ${mib(report.peakRssBytes)}, end ${mib(report.endRssBytes)}`,
    `slowest answers: ${report.slowest.map((s) => `#${s.index} ${s.ms} ms (${s.status}, ${s.kind})`).join('; ')}`,
    `failures: ${report.failures} (${report.knownFailures} known, ${report.crashes} server crashes)${report.serverExit ? ` — ${report.serverExit}` : ''}`,
  ];
  for (const [signature, info] of Object.entries(report.failureSignatures)) {
    lines.push(`  ${info.count}× ${signature}${info.known ? `  [known: ${info.known}]` : ''}  (first: case ${info.firstIndex}; replay: npm run fuzz -- --target ${report.target} --seed ${report.seed} --replay ${info.firstIndex})`);
    const record = report.kept.find((k) => k.index === info.firstIndex);
    if (record) {
      lines.push(`     ${record.detail.slice(0, 300)}`);
      const shown = record.minimized?.request ?? record.request;
      lines.push(`     ${record.minimized ? 'minimized' : 'request'}:\n${shown.split('\n').map((l) => `       ${l}`).join('\n').slice(0, 3000)}`);
    }
  }
  return lines.join('\n');
}
