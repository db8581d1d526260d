import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebAsset } from '../../../web/web-bundle.js';

/** The encoding to send, from the client's Accept-Encoding (q=0 refuses one). */
function chooseEncoding(header: string | undefined): 'br' | 'gzip' | null {
  if (!header) return null;
  const accepted = new Set<string>();
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name || params.some((param) => /^\s*q\s*=\s*0(\.0*)?\s*$/.test(param))) continue;
    accepted.add(name.trim());
  }
  if (accepted.has('br')) return 'br';
  if (accepted.has('gzip')) return 'gzip';
  return null;
}

/** Sends a bundle compressed when the client takes it, with its validator, answering a matching `If-None-Match` with 304. */
export function sendAsset(request: FastifyRequest, reply: FastifyReply, asset: WebAsset, cacheControl: string): FastifyReply {
  const encoding = chooseEncoding(request.headers['accept-encoding']);
  // Each encoding is its own representation, so each has its own strong validator.
  const etag = encoding === null ? asset.etag : `${asset.etag.slice(0, -1)}-${encoding}"`;
  void reply.header('etag', etag).header('cache-control', cacheControl).header('x-content-type-options', 'nosniff').header('vary', 'Accept-Encoding');
  if (request.headers['if-none-match'] === etag) return reply.code(304).send();
  void reply.type(asset.contentType);
  if (encoding === null) return reply.send(asset.body);
  return reply.header('content-encoding', encoding).send(encoding === 'br' ? asset.brotli : asset.gzip);
}
