import net from 'node:net';
import { EdgePotholeError } from '../util/errors';
import { stageLogger } from '../util/logger';

/**
 * An in-process aedes broker for the demo (`npm start`), so that a laptop without mosquitto
 * still shows detections. The production daemon never starts one: a vehicle publishes to the
 * broker its fleet configured, and a broker inside the daemon would die with it.
 */

export interface EmbeddedBrokerOptions {
  /** Loopback address to bind; default `127.0.0.1`. Anything else is refused. */
  host?: '127.0.0.1' | '::1' | 'localhost';
  /** TCP port, e.g. 1883. */
  port: number;
}

export interface EmbeddedBroker {
  /** `mqtt://host:port` of the broker. */
  readonly url: string;
  /** Stops listening, closes every client connection and the broker. */
  close(): Promise<void>;
}

/** Milliseconds to wait for a TCP connect on loopback before deciding nothing listens. */
const PROBE_TIMEOUT_MS = 1000;

/** Resolves true if a TCP connection to host:port succeeds within PROBE_TIMEOUT_MS. */
function somethingListens(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (listening: boolean) => {
      socket.destroy();
      resolve(listening);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function assertLoopback(host: string, port: number): void {
  if (!['127.0.0.1', '::1', 'localhost'].includes(host)) {
    throw new EdgePotholeError(
      'EP_CONFIG_INVALID',
      `embedded broker host must be a loopback address (127.0.0.1, ::1 or localhost); ` +
        `received ${JSON.stringify(host)}`,
    );
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new EdgePotholeError(
      'EP_CONFIG_INVALID',
      `embedded broker port must be an integer from 1 to 65535; received ${JSON.stringify(port)}`,
    );
  }
}

/** Listens on host:port; resolves false if the port was taken meanwhile (EADDRINUSE). */
function listen(server: net.Server, host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') resolve(false);
      else reject(err);
    });
    server.listen({ host, port }, () => resolve(true));
  });
}

/**
 * Starts an aedes broker on loopback unless something already accepts connections on
 * host:port, in which case it resolves `undefined` and the caller uses that broker.
 */
export async function startEmbeddedBrokerIfAbsent(
  options: EmbeddedBrokerOptions,
): Promise<EmbeddedBroker | undefined> {
  const host = options.host ?? '127.0.0.1';
  const { port } = options;
  assertLoopback(host, port);
  const log = stageLogger('publish');

  if (await somethingListens(host, port)) {
    log.info({ host, port }, 'broker already listening');

    return undefined;
  }

  // aedes is an ES module; a dynamic import loads it from this CommonJS build.
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  });

  if (!(await listen(server, host, port))) {
    broker.close();
    log.info({ host, port }, 'broker already listening');

    return undefined;
  }

  const url = `mqtt://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log.info({ url }, 'embedded broker started');

  return {
    url,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await closed;
      log.info({ url }, 'embedded broker stopped');
    },
  };
}
