import { randomUUID } from 'node:crypto';
import type { ProjectWork, SlotDecision, SlotLease, SlotLedger } from '../../ports/slot-ledger.js';
import type { RedisConnection } from '../redis/redis-connection.js';

/**
 * Keys: KEYS[1] nodes (hash node → slots), KEYS[2] registrations (sorted set node → expiry, ms of
 * Redis time), KEYS[3] demand and KEYS[4] held slots (hashes `node|project` → count), KEYS[5] a
 * flag set while some project was refused recently. Releases and demand drops publish on the
 * channel only while that flag is set, so a cluster where nobody waits sends no notices at all.
 *
 * Every script first drops nodes whose registration ran out, with their demand and held slots,
 * then renews the caller's. Time is the Redis server's (TIME), so nodes' clocks need not agree.
 */
const PRELUDE = `
if redis.replicate_commands then redis.replicate_commands() end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local node = ARGV[1]
local ttl = tonumber(ARGV[3])
local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
if #dead > 0 then
  local gone = {}
  for _, id in ipairs(dead) do
    gone[id] = true
    redis.call('HDEL', KEYS[1], id)
    redis.call('ZREM', KEYS[2], id)
  end
  for _, key in ipairs({KEYS[3], KEYS[4]}) do
    for _, field in ipairs(redis.call('HKEYS', key)) do
      if gone[string.match(field, '^([^|]*)|')] then redis.call('HDEL', key, field) end
    end
  end
end
redis.call('HSET', KEYS[1], node, ARGV[2])
redis.call('ZADD', KEYS[2], now + ttl, node)
-- An abandoned deployment's keys go away on their own.
for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], ttl * 20) end
local function set_count(key, field, count)
  if count > 0 then redis.call('HSET', key, field, count) else redis.call('HDEL', key, field) end
end
local function notify()
  if redis.call('EXISTS', KEYS[5]) == 1 then redis.call('PUBLISH', ARGV[4], '') end
end
`;

/** ARGV: node, slots, ttl, channel, project, demand, refusal flag ttl → {granted, share, held}. */
const ACQUIRE_SCRIPT = `${PRELUDE}
local project = ARGV[5]
local field = node .. '|' .. project
set_count(KEYS[3], field, tonumber(ARGV[6]))
local total = 0
for _, slots in ipairs(redis.call('HVALS', KEYS[1])) do total = total + tonumber(slots) end
local demands = {}
local pairs_ = redis.call('HGETALL', KEYS[3])
for i = 1, #pairs_, 2 do
  local p = string.match(pairs_[i], '^[^|]*|(.*)$')
  demands[p] = (demands[p] or 0) + tonumber(pairs_[i + 1])
end
local held = 0
local suffix = '|' .. project
pairs_ = redis.call('HGETALL', KEYS[4])
for i = 1, #pairs_, 2 do
  if string.sub(pairs_[i], -#suffix) == suffix and string.match(pairs_[i], '^[^|]*|(.*)$') == project then
    held = held + tonumber(pairs_[i + 1])
  end
end
demands[project] = math.max(demands[project] or 0, held + 1)
-- The same water filling as src/domain/slot-share.ts.
local sorted = {}
for _, d in pairs(demands) do if d > 0 then table.insert(sorted, d) end end
table.sort(sorted)
local share = math.max(1, total)
local remaining = total
for i, d in ipairs(sorted) do
  local split = remaining / (#sorted - i + 1)
  if d > split then
    share = math.max(1, math.ceil(split))
    break
  end
  remaining = remaining - d
end
if held < share then
  redis.call('HINCRBY', KEYS[4], field, 1)
  return {1, share, held + 1}
end
redis.call('SET', KEYS[5], '1', 'PX', tonumber(ARGV[7]))
return {0, share, held}
`;

/** ARGV: node, slots, ttl, channel, project. */
const RELEASE_SCRIPT = `${PRELUDE}
local field = node .. '|' .. ARGV[5]
set_count(KEYS[4], field, tonumber(redis.call('HGET', KEYS[4], field) or '0') - 1)
notify()
return 1
`;

/** ARGV: node, slots, ttl, channel, then project, demand pairs. */
const DEMAND_SCRIPT = `${PRELUDE}
local dropped = false
for i = 5, #ARGV, 2 do
  local field = node .. '|' .. ARGV[i]
  local count = tonumber(ARGV[i + 1])
  if count <= 0 and redis.call('HEXISTS', KEYS[3], field) == 1 then dropped = true end
  set_count(KEYS[3], field, count)
end
if dropped then notify() end
return 1
`;

/** ARGV: node, slots, ttl, channel, then project, demand, held triples: the node's whole account. */
const HEARTBEAT_SCRIPT = `${PRELUDE}
local prefix = node .. '|'
for _, key in ipairs({KEYS[3], KEYS[4]}) do
  for _, field in ipairs(redis.call('HKEYS', key)) do
    if string.sub(field, 1, #prefix) == prefix then redis.call('HDEL', key, field) end
  end
end
for i = 5, #ARGV, 3 do
  set_count(KEYS[3], prefix .. ARGV[i], tonumber(ARGV[i + 1]))
  set_count(KEYS[4], prefix .. ARGV[i], tonumber(ARGV[i + 2]))
end
return 1
`;

/** ARGV: node, slots, ttl, channel. Removes the node at once (a clean shutdown). */
const WITHDRAW_SCRIPT = `${PRELUDE}
local prefix = node .. '|'
redis.call('HDEL', KEYS[1], node)
redis.call('ZREM', KEYS[2], node)
for _, key in ipairs({KEYS[3], KEYS[4]}) do
  for _, field in ipairs(redis.call('HKEYS', key)) do
    if string.sub(field, 1, #prefix) == prefix then redis.call('HDEL', key, field) end
  end
end
notify()
return 1
`;

type ScriptCommand<R> = (...args: string[]) => Promise<R>;

interface RedisSlotLedgerOptions {
  /** This node's slots (its TROVE_TRANSFORM_CONCURRENCY). */
  slots: number;
  /** A node that sends no heartbeat for this long drops out, with the slots it held. */
  nodeTtlMs: number;
  /** How long a refusal keeps release notices flowing. Default 10 s. */
  noticeWindowMs?: number;
  nodeId?: string;
  /** Called each time the ledger fails open (a metric); the connection logs the failure. */
  onFailure?: (operation: string) => void;
}

/**
 * The ledger shared by every node through Redis: each call is one atomic script. Fails open like
 * the lock service: when Redis is down or slower than the connection's command timeout, `acquire`
 * grants without counting, and the other calls do nothing; the heartbeats put the node's account
 * right once Redis answers again.
 *
 * Cost: each script reads every field of the demand and held hashes, so one call is
 * O(nodes × projects with work) inside Redis — a few hundred fields for tens of nodes and projects.
 */
export class RedisSlotLedger implements SlotLedger {
  readonly nodeId: string;
  private readonly keys: string[];
  private readonly channel: string;
  private readonly commands: Record<'acquire' | 'release' | 'demand' | 'heartbeat' | 'withdraw', ScriptCommand<unknown>>;
  private readonly stops = new Set<() => void>();

  constructor(
    private readonly redis: RedisConnection,
    private readonly options: RedisSlotLedgerOptions,
  ) {
    this.nodeId = (options.nodeId ?? randomUUID()).replaceAll('|', '-');
    this.keys = ['slots:nodes', 'slots:registrations', 'slots:demand', 'slots:held', 'slots:refused'].map((name) => redis.key(name));
    this.channel = redis.key('slots-changed');
    const scripts = { acquire: ACQUIRE_SCRIPT, release: RELEASE_SCRIPT, demand: DEMAND_SCRIPT, heartbeat: HEARTBEAT_SCRIPT, withdraw: WITHDRAW_SCRIPT };
    const client = redis.client as unknown as Record<string, ScriptCommand<unknown>>;
    const commands: Partial<RedisSlotLedger['commands']> = {};
    for (const [name, lua] of Object.entries(scripts) as Array<[keyof typeof scripts, string]>) {
      const command = `troveSlots${name[0]!.toUpperCase()}${name.slice(1)}`;
      // defineCommand sends EVALSHA and falls back to EVAL when the server's script cache was flushed.
      redis.client.defineCommand(command, { numberOfKeys: this.keys.length, lua });
      commands[name] = (...args) => client[command]!(...args);
    }
    this.commands = commands as RedisSlotLedger['commands'];
  }

  async acquire(projectId: string, demand: number): Promise<SlotDecision> {
    try {
      const reply = (await this.call('acquire', projectId, String(demand), String(this.options.noticeWindowMs ?? 10_000))) as [number, number, number];
      const [granted, share, held] = reply;
      if (granted === 1) return { granted: true, lease: this.lease(projectId), failedOpen: false };
      return { granted: false, share, held };
    } catch (error) {
      // The script may still have landed (a timeout after the write); the next heartbeat corrects the count.
      this.failed('slots.acquire', error);
      return { granted: true, lease: { release: async () => undefined }, failedOpen: true };
    }
  }

  async reportDemand(demand: ReadonlyMap<string, number>): Promise<void> {
    if (demand.size === 0) return;
    try {
      await this.call('demand', ...[...demand].flatMap(([project, count]) => [project, String(count)]));
    } catch (error) {
      this.failed('slots.demand', error);
    }
  }

  async heartbeat(work: ReadonlyMap<string, ProjectWork>): Promise<void> {
    try {
      await this.call('heartbeat', ...[...work].flatMap(([project, { waiting, running }]) => [project, String(waiting + running), String(running)]));
    } catch (error) {
      this.failed('slots.heartbeat', error);
    }
  }

  onChange(listener: () => void): () => void {
    const stop = this.redis.channels.listen(this.channel, () => listener());
    this.stops.add(stop);
    return () => {
      stop();
      this.stops.delete(stop);
    };
  }

  async close(): Promise<void> {
    for (const stop of this.stops) stop();
    this.stops.clear();
    try {
      await this.call('withdraw');
    } catch (error) {
      // The registration expires on its own.
      this.failed('slots.withdraw', error);
    }
  }

  private call(name: keyof RedisSlotLedger['commands'], ...args: string[]): Promise<unknown> {
    return this.commands[name](...this.keys, this.nodeId, String(this.options.slots), String(this.options.nodeTtlMs), this.channel, ...args);
  }

  private failed(operation: string, error: unknown): void {
    this.redis.reportFailure(operation, error);
    this.options.onFailure?.(operation);
  }

  private lease(projectId: string): SlotLease {
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        try {
          await this.call('release', projectId);
        } catch (error) {
          // The next heartbeat gives the node's true count.
          this.failed('slots.release', error);
        }
      },
    };
  }
}
