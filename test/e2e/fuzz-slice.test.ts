/**
 * A short, seeded slice of the HTTP fuzzers (bench/fuzz; `npm run fuzz` runs a million cases per
 * target): generated CDN URLs, form bodies, REST query parameters and Range headers against a real
 * server over loopback. Whatever arrives, Trove answers within the deadline and never with a 5xx.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixtures, type Fixtures } from '../../bench/fuzz/fixtures.js';
import { inlineServer, runFuzz, type RunReport, type ServerHandle } from '../../bench/fuzz/harness.js';
import { TARGETS } from '../../bench/fuzz/targets/index.js';

const SLICES = [
  { target: 'url', cases: 2000, seed: 0x5eed01 },
  { target: 'form', cases: 1000, seed: 0x5eed02 },
  { target: 'rest', cases: 2000, seed: 0x5eed03 },
  { target: 'range', cases: 3000, seed: 0x5eed04 },
] as const;

let server: ServerHandle;
let fixtures: Fixtures;

beforeAll(async () => {
  server = await inlineServer();
  fixtures = await createFixtures(server.url);
  // The face model loads on first use (about 2 s of CPU, more on a busy machine): loaded here, it is
  // not charged to whichever generated smart crop happens to come first, within the 5 s deadline.
  const warm = await fetch(`${server.url}/${fixtures.png.uuid}/detect_faces/`);
  expect(warm.status).toBe(200);
}, 60_000);

afterAll(async () => {
  await server?.close();
});

/** Failures that say the server broke (as opposed to a 4xx without a JSON message, reported but not fatal here). */
function serverFaults(report: RunReport): string[] {
  return Object.entries(report.failureSignatures)
    .filter(([signature, info]) => !info.known && /^(5\d\d|hang|reset|server crash|uncaught|wrong answer)/.test(signature))
    .map(([signature, info]) => {
      const example = report.kept.find((k) => k.index === info.firstIndex);
      return `${info.count}× ${signature} (seed ${report.seed}, case ${info.firstIndex})\n${example?.request.slice(0, 1500) ?? ''}`;
    });
}

describe('fuzz slice', () => {
  for (const slice of SLICES) {
    it(`${slice.target}: ${slice.cases} generated requests, no 5xx, none unanswered`, { timeout: 120_000 }, async () => {
      const report = await runFuzz({ target: TARGETS[slice.target]!, fixtures, server, seed: slice.seed, cases: slice.cases, connections: 8, deadlineMs: 5_000, shrink: false });
      const other = Object.keys(report.failureSignatures).filter((s) => !serverFaults(report).some((f) => f.includes(s)));
      if (other.length > 0) console.warn(`[fuzz slice ${slice.target}] answered, but not as they should:\n  ${other.join('\n  ')}`);
      expect(report.cases).toBe(slice.cases);
      expect(serverFaults(report)).toEqual([]);
      // Both sides of the grammar are reached: some requests are accepted, some refused.
      const statuses = Object.keys(report.statuses);
      expect(statuses.some((s) => s.startsWith('2'))).toBe(true);
      expect(statuses.some((s) => s.startsWith('4'))).toBe(true);
    });
  }
});
