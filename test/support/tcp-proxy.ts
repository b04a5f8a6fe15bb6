import net from 'node:net';

/**
 * A TCP hop in front of a server that can be cut and brought back on the same port.
 * Cutting it looks, to the client, exactly like the server dying mid-request (open
 * connections reset, new ones refused), while the server behind it keeps its state, so a
 * test can still look at what was, and was not, written.
 */
export interface TcpProxy {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  port: number;
  /** Destroys every open connection and stops listening. */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  resume(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket): void => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    track(client);
    track(upstream);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  const port = await listen(0);
  const cut = async (): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // resetAndDestroy sends RST, as a crashed peer's kernel would.
    for (const s of sockets) (s.resetAndDestroy ?? s.destroy).call(s);
    await closed;
  };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    cut,
    resume: async () => {
      await listen(port);
    },
    close: async () => {
      if (server.listening) await cut();
    },
  };
}
