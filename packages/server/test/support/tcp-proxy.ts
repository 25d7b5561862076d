import { createServer, connect, type Server, type Socket } from 'node:net';

/** A loopback TCP relay a test can cut and restore, to take a database away from a server. */
export interface TcpProxy {
  readonly port: number;
  /** Closes every relayed connection and refuses new ones, as a dead database host would. */
  cut(): Promise<void>;
  /** Accepts and relays connections again, on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a relay on a free loopback port towards `target` (a server on 127.0.0.1). */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const relay = (client: Socket) => {
    const upstream = connect(target.port, target.host);

    track(client);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  };
  let server: Server = await listenOn(relay, 0);
  const port = portOf(server);

  const stopListening = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      sockets.forEach((socket) => socket.destroy());
    });

  return {
    port,
    cut: stopListening,
    restore: async () => {
      server = await listenOn(relay, port);
    },
    close: async () => {
      if (server.listening) {
        await stopListening();
      }
    },
  };
}

function listenOn(onConnection: (socket: Socket) => void, port: number): Promise<Server> {
  const server = createServer(onConnection);

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function portOf(server: Server): number {
  const address = server.address();

  return typeof address === 'object' && address !== null ? address.port : 0;
}
