import type { FastifyRequest } from 'fastify';
import type { Config } from '../config/config.js';

/** Absolute base URL of this server as the client sees it. */
export function originOf(request: FastifyRequest, config: Config): string {
  if (config.http.publicUrl) return config.http.publicUrl;
  return `${request.protocol}://${request.host}`;
}

export function uploadBase(request: FastifyRequest, config: Config): string {
  return `${originOf(request, config)}${config.http.uploadPrefix}`;
}

export function cdnBase(request: FastifyRequest, config: Config): string {
  return `${originOf(request, config)}${config.http.deliveryPrefix}`;
}
