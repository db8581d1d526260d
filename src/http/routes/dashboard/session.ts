import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../../context.js';

/** `/dashboard/api/session`: sign in, who am I, sign out. */
export function registerDashboardSession(_app: FastifyInstance, _ctx: AppContext): void {}
