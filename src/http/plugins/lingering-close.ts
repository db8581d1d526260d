import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/**
 * An answer sent before the request body has been read (a refused upload, a wrong key, a body over
 * its limit) must still reach the client. Closing the socket while the client is sending makes the
 * kernel answer its next bytes with a reset, and a reset can discard the answer before the client
 * reads it. So, as nginx's lingering close does, Trove keeps reading and discarding what is still
 * coming after the answer, within a bound, and only then closes.
 */
interface LingeringCloseLimits {
  /** Bytes still read and discarded after the answer, at most. */
  maxBytes: number;
  /** Time the connection stays open after the answer, at most. */
  maxMs: number;
}

const DEFAULT_LINGERING_CLOSE: LingeringCloseLimits = { maxBytes: 16 * 1024 * 1024, maxMs: 10_000 };

export function registerLingeringClose(app: FastifyInstance, limits: LingeringCloseLimits = DEFAULT_LINGERING_CLOSE): void {
  app.addHook('onSend', async (request, reply, payload) => {
    const raw = request.raw;
    if (raw.complete || !hasBody(raw)) return payload;
    // The connection cannot be reused: the rest of this body would be read as the next request.
    void reply.header('connection', 'close');
    lingerAndDiscard(raw, limits);
    return payload;
  });
}

function hasBody(raw: IncomingMessage): boolean {
  const length = raw.headers['content-length'];
  return raw.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Whoever was reading the body has given up: the rest flows to nowhere instead of stalling the socket.
 * Node closes a `Connection: close` socket with destroySoon() once the answer is written; here that
 * becomes: send FIN after the answer, read on until the body is complete, the byte bound or the time
 * bound, then destroy.
 */
function lingerAndDiscard(raw: IncomingMessage, limits: LingeringCloseLimits): void {
  let read = 0;
  let lingering = false;
  const socket = raw.socket as Socket | null;
  const close = () => {
    clearTimeout(timer);
    if (!socket || socket.destroyed) return;
    // Whatever of the answer is still queued is written before the socket goes.
    if (socket.writableFinished || !lingering) socket.destroy();
    else socket.once('finish', () => socket.destroy());
  };
  const timer = setTimeout(close, limits.maxMs);
  timer.unref();
  raw.unpipe();
  raw.removeAllListeners('readable');
  raw.removeAllListeners('data');
  raw.on('error', () => undefined);
  raw.on('data', (chunk: Buffer) => {
    read += chunk.length;
    if (read > limits.maxBytes) close();
  });
  raw.once('end', () => {
    if (lingering) close();
  });
  raw.resume();
  if (!socket || socket.destroyed) return;
  socket.once('close', () => clearTimeout(timer));
  socket.destroySoon = function lingeringDestroySoon(this: Socket): void {
    lingering = true;
    socket.end();
    if (raw.complete) close();
  };
}
