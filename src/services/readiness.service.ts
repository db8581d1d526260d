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

export interface ReadinessReport {
  /** Every required dependency answered. */
  ready: boolean;
  /** `degraded` when any dependency, required or optional, did not answer. */
  status: 'ready' | 'degraded';
  checks: Record<string, CheckResult>;
}

export interface ReadinessProbe {
  check(): Promise<ReadinessReport>;
}

/** Asks every dependency whether it answers, each within a time limit, required ones first. */
export class ReadinessService implements ReadinessProbe {
  constructor(
    private readonly checks: readonly ReadinessCheck[],
    private readonly timeoutMs = 2_000,
  ) {}

  async check(): Promise<ReadinessReport> {
    const required = await Promise.all(this.checks.filter((c) => c.required).map((c) => this.run(c)));
    const optional = await Promise.all(this.checks.filter((c) => !c.required).map((c) => this.run(c)));
    const ready = required.every((c) => c.ok);
    const degraded = !ready || optional.some((c) => !c.ok);
    return {
      ready,
      status: degraded ? 'degraded' : 'ready',
      checks: Object.fromEntries([...required, ...optional].map((c) => [c.name, c])),
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
