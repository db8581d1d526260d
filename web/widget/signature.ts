/**
 * Signed uploads: the page's server signs (it holds the secret key), the widget only carries the
 * signature. One signature serves many requests until shortly before it expires, so a batch of files
 * costs the site one round trip, not one per file.
 */

import { signatureIsFresh } from './validate.js';
import type { Signature } from './upload-api.js';

export interface SignatureAnswer {
  signature: string;
  expire: number | string;
}

export type SignatureProvider = () => Promise<SignatureAnswer>;

function normalize(answer: unknown): Signature {
  if (!answer || typeof answer !== 'object') throw new Error('the signature answer is not an object');
  const { signature, expire } = answer as { signature?: unknown; expire?: unknown };
  if (typeof signature !== 'string' || signature.length === 0) throw new Error('the answer has no signature');
  const expireText = typeof expire === 'number' ? String(Math.floor(expire)) : typeof expire === 'string' ? expire.trim() : '';
  if (!/^\d{1,12}$/.test(expireText)) throw new Error('the answer has no valid expire (Unix seconds)');
  return { signature, expire: expireText };
}

/** GET `url` → `{signature, expire}`, sending cookies only to the page's own origin. */
export function signatureFromUrl(url: string): SignatureProvider {
  return async () => {
    const response = await fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}`);
    return (await response.json()) as SignatureAnswer;
  };
}

export class SignatureCache {
  private cached: Signature | null = null;
  private pending: Promise<Signature> | null = null;

  /** `provider()` is read at each call, so a provider set after the element started still applies. */
  constructor(private readonly provider: () => SignatureProvider | null) {}

  /** Null when the page set up no signing: the upload goes unsigned. */
  async get(): Promise<Signature | null> {
    const provider = this.provider();
    if (!provider) return null;
    if (this.cached && signatureIsFresh(Number(this.cached.expire), Date.now())) return this.cached;
    // Files starting together share one request to the signing endpoint.
    this.pending ??= provider()
      .then(normalize)
      .then((signature) => {
        this.cached = signature;
        return signature;
      })
      .finally(() => {
        this.pending = null;
      });
    return this.pending;
  }

  /** A different provider or URL signs for something else: forget what the old one gave. */
  reset(): void {
    this.cached = null;
  }
}
