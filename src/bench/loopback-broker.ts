import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { startEmbeddedBrokerIfAbsent, type EmbeddedBroker } from '../publish/embedded-broker';
import { MqttPublisher } from '../publish/mqtt-publisher';

/** Ports tried before giving up: another process may take a free port before we bind it. */
const PORT_ATTEMPTS = 5;

/** How long the publisher may take to connect to a broker on this machine. */
const CONNECT_TIMEOUT_MS = 10_000;

/** A port that was free a moment ago, chosen by the kernel. */
function freeLoopbackPort(): Promise<number> {
  const server = net.createServer();

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** An embedded aedes broker of our own on 127.0.0.1, never one that was already there. */
export async function startLoopbackBroker(): Promise<EmbeddedBroker> {
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
    const port = await freeLoopbackPort();
    const broker = await startEmbeddedBrokerIfAbsent({ host: '127.0.0.1', port });
    if (broker) return broker;
  }

  throw new Error(`no free loopback port for the bench broker after ${PORT_ATTEMPTS} tries`);
}

/** A started publisher for `url`, once it is connected. */
export async function connectPublisher(url: string, vehicleId: string): Promise<MqttPublisher> {
  const publisher = new MqttPublisher({
    brokerUrl: url,
    vehicleId,
    clientId: `edge-pothole-bench-${process.pid}`,
  });
  publisher.start();

  const deadline = Date.now() + CONNECT_TIMEOUT_MS;
  while (!publisher.connected) {
    if (Date.now() > deadline) {
      await publisher.stop();
      throw new Error(
        `the bench broker at ${url} accepted no connection in ${CONNECT_TIMEOUT_MS} ms`,
      );
    }
    await sleep(20);
  }

  return publisher;
}
