import { createHmac } from 'node:crypto';
import { matchesAny } from './constant-time.js';

/** Uploadcare's legacy signed-upload scheme: hex(HMAC-SHA256(secret, expire)). */
export function computeUploadSignature(secret: string, expire: string): string {
  return createHmac('sha256', secret).update(expire).digest('hex');
}

/** Constant-time comparison of a client signature against every active secret of a project. */
export function matchesAnySecret(signature: string, expire: string, secrets: readonly string[]): boolean {
  return matchesAny(
    secrets.map((secret) => computeUploadSignature(secret, expire)),
    signature.toLowerCase(),
  );
}
