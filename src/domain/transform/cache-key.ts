/**
 * The name of a transformation. A plan hashes to the same value on every node and across restarts,
 * so a derivative computed once is found again by anyone asking for the same (normalised) plan
 * (its blob key is built in `../blob-layout.ts`).
 */
import { createHash } from 'node:crypto';
import type { TransformPlan } from './operations.js';

/** Part of every hash: bump it when the meaning of a plan changes, and old derivatives stop matching. */
// v2: smart crops look for faces first.
const PLAN_HASH_VERSION = 'trove-plan-v2';
/** 128 bits: collisions are out of reach, and keys stay short. */
const HASH_HEX_LENGTH = 32;

/**
 * Hex digest of the plan's canonical JSON (keys sorted at every level). `inputs` names what else
 * the result depends on (the face detector's version for plans that use faces), so a change of it
 * names new derivatives.
 */
export function planHash(plan: TransformPlan, inputs?: string): string {
  return createHash('sha256')
    .update(`${PLAN_HASH_VERSION}\n${inputs === undefined ? '' : `${inputs}\n`}${canonicalJson(plan)}`)
    .digest('hex')
    .slice(0, HASH_HEX_LENGTH);
}

/** JSON with object keys sorted, so key order in memory never changes the hash. */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number in plan');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, entry]) => entry !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, entry]) => `${JSON.stringify(key)}:${canonicalJson(entry)}`).join(',')}}`;
  }
  throw new TypeError(`canonicalJson: cannot encode a ${typeof value}`);
}
