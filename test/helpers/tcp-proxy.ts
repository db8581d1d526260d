import net from 'node:net';

export interface TcpProxy {
  /** The loopback port clients connect to; it stays the same across stop() and start(). */
  readonly port: number;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /**
   * Closes the listener and destroys every open connection, both sides: clients then see a reset
   * of what they held and an immediate refusal of what they open, as when a database goes away.
   */
  stop(): Promise<void>;
}

/** A TCP forwarder on a loopback port to `target` (PostgreSQL by default): a database a test can cut off. */
export async function startTcpProxy(target: { host: string; port: number } = { host: '127.0.0.1', port: 5432 }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };

  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    track(client);
    track(upstream);
    // Either side failing ends the pair: a half-open forward would leave the client waiting.
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });

  let listening = false;
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      const failed = (error: Error) => reject(error);
      server.once('error', failed);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', failed);
        listening = true;
        resolve();
      });
    });

  await listen(0);
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
  const port = address.port;

  return {
    port,
    async start() {
      if (!listening) await listen(port);
    },
    async stop() {
      if (!listening) return;
      listening = false;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      await closed;
    },
  };
}
