import { createHmac, timingSafeEqual } from 'node:crypto';

/** Uploadcare's legacy signed-upload scheme: hex(HMAC-SHA256(secret, expire)). */
export function computeUploadSignature(secret: string, expire: string): string {
  return createHmac('sha256', secret).update(expire).digest('hex');
}

/** Constant-time comparison of a client signature against every active secret of a project. */
export function matchesAnySecret(signature: string, expire: string, secrets: readonly string[]): boolean {
  const given = Buffer.from(signature.toLowerCase(), 'utf8');
  let matched = false;
  for (const secret of secrets) {
    const expected = Buffer.from(computeUploadSignature(secret, expire), 'utf8');
    // Every secret is compared, match or not, so timing does not tell which key (or whether any) matched.
    if (expected.length === given.length && timingSafeEqual(expected, given)) matched = true;
  }
  return matched;
}
