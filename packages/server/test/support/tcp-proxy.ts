import { createServer, connect, type Server, type Socket } from 'node:net';

/** A loopback TCP relay a test can break in two ways, to take a database away from a server. */
export interface TcpProxy {
  readonly port: number;
  /** Closes every relayed connection and refuses new ones, as a dead database host would. */
  cut(): Promise<void>;
  /**
   * Goes silent, as behind a network partition: connections stay open, old and new, but no
   * byte passes in either direction.
   */
  stall(): void;
  /** Relays again on the same port; connections held while silent are closed first. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

type Mode = 'relay' | 'stall' | 'cut';

/** Starts a relay on a free loopback port towards `target` (a server on 127.0.0.1). */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let mode: Mode = 'relay';
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const onConnection = (client: Socket) => {
    track(client);

    if (mode === 'stall') {
      client.pause();
      return;
    }

    const upstream = connect(target.port, target.host);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  };
  let server: Server = await listenOn(onConnection, 0);
  const port = portOf(server);
  const destroyAll = () => sockets.forEach((socket) => socket.destroy());

  const stopListening = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      destroyAll();
    });

  return {
    port,
    cut: async () => {
      mode = 'cut';
      await stopListening();
    },
    stall: () => {
      mode = 'stall';
      sockets.forEach((socket) => {
        socket.unpipe();
        socket.pause();
      });
    },
    restore: async () => {
      if (mode === 'stall') {
        destroyAll();
      }

      if (!server.listening) {
        server = await listenOn(onConnection, port);
      }

      mode = 'relay';
    },
    close: async () => {
      if (server.listening) {
        await stopListening();
      }

      destroyAll();
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
