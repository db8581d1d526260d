import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebAsset } from '../../../web/web-bundle.js';

/** Sends a bundle with its validator, answering a matching `If-None-Match` with 304. */
export function sendAsset(request: FastifyRequest, reply: FastifyReply, asset: WebAsset, cacheControl: string): FastifyReply {
  void reply.header('etag', asset.etag).header('cache-control', cacheControl).header('x-content-type-options', 'nosniff');
  if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  return reply.type(asset.contentType).send(asset.body);
}
