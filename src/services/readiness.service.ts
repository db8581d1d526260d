/** One dependency `/ready` looks at. */
export interface ReadinessCheck {
  name: string;
  /** A required dependency that fails makes the node unready (503); an optional one only degrades it. */
  required: boolean;
  ping(): Promise<void>;
}

interface CheckResult {
  name: string;
  ok: boolean;
  error?: string;
  ms: number;
}

/** A feature that may or may not be set up on this server (an add-on): reported, never a reason to be unready. */
export interface FeatureStatus {
  available: boolean;
  /** Why it is unavailable. */
  reason?: string;
  /** What runs it. */
  engine?: string;
}

/** The features `/ready` reports; `degraded` when one that is set up does not work. */
export type FeatureProbe = (timeoutMs: number) => Promise<{ addons: Record<string, FeatureStatus>; degraded: boolean }>;

export interface ReadinessReport {
  /** Every required dependency answered. */
  ready: boolean;
  /** `degraded` when any dependency, required or optional, did not answer, or a feature that is set up does not work. */
  status: 'ready' | 'degraded';
  checks: Record<string, CheckResult>;
  /** Add-ons, each available or not, and why. */
  addons: Record<string, FeatureStatus>;
  /** Whether this node reads and converts video; absent on nodes that never do. */
  video?: FeatureStatus;
  /** Which face detector runs on this node; absent on nodes without one. */
  faces?: FeatureStatus;
}

export interface ReadinessProbe {
  check(): Promise<ReadinessReport>;
}

/** Asks every dependency whether it answers, each within a time limit, required ones first. */
export class ReadinessService implements ReadinessProbe {
  constructor(
    /** A function when the set changes while the process runs (shards added to the map). */
    private readonly checks: readonly ReadinessCheck[] | (() => readonly ReadinessCheck[]),
    private readonly timeoutMs = 2_000,
    private readonly features: FeatureProbe = async () => ({ addons: {}, degraded: false }),
    private readonly video: (() => Promise<FeatureStatus>) | null = null,
    private readonly faces: (() => FeatureStatus) | null = null,
  ) {}

  async check(): Promise<ReadinessReport> {
    const checks = typeof this.checks === 'function' ? this.checks() : this.checks;
    const [required, optional, features, video] = await Promise.all([
      Promise.all(checks.filter((c) => c.required).map((c) => this.run(c))),
      Promise.all(checks.filter((c) => !c.required).map((c) => this.run(c))),
      this.features(this.timeoutMs),
      this.video ? this.video() : null,
    ]);
    const ready = required.every((c) => c.ok);
    const degraded = !ready || optional.some((c) => !c.ok) || features.degraded;
    return {
      ready,
      status: degraded ? 'degraded' : 'ready',
      checks: Object.fromEntries([...required, ...optional].map((c) => [c.name, c])),
      addons: features.addons,
      ...(video ? { video } : {}),
      ...(this.faces ? { faces: this.faces() } : {}),
    };
  }

  private async run(check: ReadinessCheck): Promise<CheckResult> {
    const started = performance.now();
    try {
      await withTimeout(check.ping(), this.timeoutMs);
      return { name: check.name, ok: true, ms: Math.round(performance.now() - started) };
    } catch (error) {
      return { name: check.name, ok: false, error: error instanceof Error ? error.message : String(error), ms: Math.round(performance.now() - started) };
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
