import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import {
  INTERNAL_REFUSAL_HEADER,
  INTERNAL_SIGNATURE_HEADER,
  INTERNAL_TIMESTAMP_HEADER,
  INTERNAL_TRANSFORM_PATH,
  signInternalRequest,
} from '../../domain/internal-signature.js';
import { appErrorFromPeer, createAppError, type AppError } from '../../errors.js';
import { RendezvousHash } from '../../lib/rendezvous-hash.js';
import type { TransformJob, TransformOutput, TransformRunner } from '../../ports/transform-runner.js';

interface HttpTransformRunnerSettings {
  /** Origins of the transform nodes, e.g. `http://10.0.0.5:3000`. */
  nodes: readonly string[];
  /** TROVE_INTERNAL_SECRET: signs every job. */
  secret: string;
  /** Deadline of one exchange with a node, its queueing and transformation included. */
  timeoutMs: number;
  /** Largest answer read from a node; a larger one counts as that node failing. */
  maxAnswerBytes: number;
  /** How long a node that failed is passed over (tried only after every other node). */
  downForMs: number;
  /** Connections kept to each node at most; further requests wait for one. */
  maxSocketsPerNode: number;
}

type Outcome = 'ok' | 'refused' | 'failed';

interface RunnerObserver {
  /** One exchange with a node and how it ended: `refused` is a refusal of the job (an engine limit), `failed` the node's. */
  exchanged(node: string, outcome: Outcome, seconds: number): void;
  /** A node failed and is passed over for a while. */
  nodeDown(node: string, reason: string): void;
}

type Attempt = { kind: 'answer'; output: TransformOutput } | { kind: 'refusal'; error: AppError } | { kind: 'failure'; reason: string; staleSocket: boolean };

/**
 * Sends jobs to transform nodes over keep-alive HTTP. A derivative's key picks its node by
 * rendezvous hashing, so every delivery node sends one derivative to the same transform node (whose
 * source cache then holds the original for that file's other sizes) and adding a node moves only
 * its share. A node that does not answer, or answers with anything but the derivative or a refusal
 * of the job, is passed over for a few seconds and the next node in the key's order takes the job.
 */
export class HttpTransformRunner implements TransformRunner {
  private readonly ring: RendezvousHash;
  private readonly agents: { http: HttpAgent; https: HttpsAgent };
  private readonly targets: Map<string, { request: typeof httpRequest; base: RequestOptions }>;
  private readonly downUntil = new Map<string, number>();

  constructor(
    private readonly settings: HttpTransformRunnerSettings,
    private readonly observer: RunnerObserver,
  ) {
    this.ring = new RendezvousHash(settings.nodes);
    const pool = { keepAlive: true, maxSockets: settings.maxSocketsPerNode, maxFreeSockets: settings.maxSocketsPerNode, scheduling: 'lifo' as const };
    this.agents = { http: new HttpAgent(pool), https: new HttpsAgent(pool) };
    this.targets = new Map(
      settings.nodes.map((node) => {
        const url = new URL(node);
        const secure = url.protocol === 'https:';
        const base: RequestOptions = {
          protocol: url.protocol,
          hostname: url.hostname.replace(/^\[|\]$/g, ''),
          port: url.port || (secure ? 443 : 80),
          path: INTERNAL_TRANSFORM_PATH,
          method: 'POST',
          agent: secure ? this.agents.https : this.agents.http,
        };
        return [node, { request: secure ? httpsRequest : httpRequest, base }];
      }),
    );
  }

  async run(job: TransformJob): Promise<TransformOutput> {
    const body = Buffer.from(JSON.stringify(job));
    let tried = 0;
    for (const node of this.order(job.key)) {
      tried++;
      let attempt = await this.attempt(node, body);
      // A kept-alive connection the node closed meanwhile is not the node failing: one more, fresh.
      if (attempt.kind === 'failure' && attempt.staleSocket) attempt = await this.attempt(node, body);
      if (attempt.kind === 'answer') return attempt.output;
      if (attempt.kind === 'refusal') throw attempt.error;
      this.downUntil.set(node, Date.now() + this.settings.downForMs);
      this.observer.nodeDown(node, attempt.reason);
    }
    throw createAppError('TRANSFORM_NODES_UNAVAILABLE', 503, `No transform node could take the transformation (${tried} tried); retry shortly.`, {
      headers: { 'retry-after': String(Math.max(1, Math.ceil(this.settings.downForMs / 1000))) },
    });
  }

  /** The key's nodes in rendezvous order, those marked down after the others (still tried when nothing else is left). */
  private order(key: string): string[] {
    const ranked = this.ring.rank(key);
    const now = Date.now();
    const up = ranked.filter((node) => (this.downUntil.get(node) ?? 0) <= now);
    return up.length === ranked.length ? ranked : [...up, ...ranked.filter((node) => !up.includes(node))];
  }

  private attempt(node: string, body: Buffer): Promise<Attempt> {
    const target = this.targets.get(node);
    if (!target) return Promise.resolve({ kind: 'failure', reason: 'unknown node', staleSocket: false });
    const started = performance.now();
    const timestamp = Date.now();
    return new Promise<Attempt>((resolve) => {
      let settled = false;
      let request: ClientRequest | null = null;
      const finish = (attempt: Attempt) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        const outcome: Outcome = attempt.kind === 'answer' ? 'ok' : attempt.kind === 'refusal' ? 'refused' : 'failed';
        this.observer.exchanged(node, outcome, (performance.now() - started) / 1000);
        resolve(attempt);
      };
      const deadline = setTimeout(() => {
        request?.destroy();
        finish({ kind: 'failure', reason: `no answer within ${this.settings.timeoutMs} ms`, staleSocket: false });
      }, this.settings.timeoutMs);
      request = target.request(
        {
          ...target.base,
          headers: {
            'content-type': 'application/json',
            'content-length': body.length,
            [INTERNAL_TIMESTAMP_HEADER]: String(timestamp),
            [INTERNAL_SIGNATURE_HEADER]: signInternalRequest(this.settings.secret, timestamp, body),
          },
        },
        (response) => {
          this.read(response).then(finish, (error: unknown) => finish({ kind: 'failure', reason: (error as Error).message, staleSocket: false }));
        },
      );
      request.on('error', (error: NodeJS.ErrnoException) => {
        const stale = request?.reusedSocket === true && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
        finish({ kind: 'failure', reason: `${error.code ?? 'error'}: ${error.message}`, staleSocket: stale });
      });
      request.end(body);
    });
  }

  private async read(response: IncomingMessage): Promise<Attempt> {
    const status = response.statusCode ?? 0;
    const declared = Number(response.headers['content-length'] ?? Number.NaN);
    if (declared > this.settings.maxAnswerBytes) {
      response.destroy();
      return { kind: 'failure', reason: `answer of ${declared} bytes is larger than ${this.settings.maxAnswerBytes}`, staleSocket: false };
    }
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of response as AsyncIterable<Buffer>) {
      length += chunk.length;
      if (length > this.settings.maxAnswerBytes) {
        response.destroy();
        return { kind: 'failure', reason: `answer larger than ${this.settings.maxAnswerBytes} bytes`, staleSocket: false };
      }
      chunks.push(chunk);
    }
    const data = Buffer.concat(chunks, length);
    if (status === 200) {
      const contentType = response.headers['content-type'];
      if (!contentType) return { kind: 'failure', reason: 'answer without Content-Type', staleSocket: false };
      return { kind: 'answer', output: { data, contentType } };
    }
    const refusal = response.headers[INTERNAL_REFUSAL_HEADER];
    if (typeof refusal === 'string') {
      const error = this.refusalOf(status, refusal, data, response.headers['retry-after']);
      if (error) return { kind: 'refusal', error };
    }
    return { kind: 'failure', reason: `answered ${status}: ${data.subarray(0, 200).toString('utf8')}`, staleSocket: false };
  }

  private refusalOf(status: number, code: string, data: Buffer, retryAfter: string | undefined): AppError | null {
    let message: unknown;
    try {
      message = (JSON.parse(data.toString('utf8')) as { message?: unknown }).message;
    } catch {
      return null;
    }
    if (typeof message !== 'string') return null;
    return appErrorFromPeer(code, status, message, retryAfter ? { 'retry-after': retryAfter } : undefined);
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}
