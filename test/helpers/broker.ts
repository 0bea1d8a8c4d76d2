import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Aedes } from 'aedes' with { 'resolution-mode': 'import' };
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';

/**
 * A real MQTT broker on a free loopback port for tests: the `mosquitto` binary when it is
 * installed, else an in-process aedes broker. EDGE_POTHOLE_TEST_BROKER=aedes or =mosquitto
 * forces one. Both keep sessions and retained messages across stop() and start(), as a
 * broker with persistence does, so that outage tests can check what survives.
 */

export type BrokerKind = 'mosquitto' | 'aedes';

export interface TestBroker {
  readonly kind: BrokerKind;
  readonly port: number;
  /** `mqtt://127.0.0.1:<port>`. */
  readonly url: string;
  /** Takes the broker down: connections drop and the port refuses; state is kept. */
  stop(): Promise<void>;
  /** Starts it again on the same port; resolves when the port accepts connections. */
  start(): Promise<void>;
  /** Stops for good and deletes the state; call it in `after()`. */
  close(): Promise<void>;
}

const START_TIMEOUT_MS = 5000;
const STOP_TIMEOUT_MS = 5000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every 10 ms; rejects after `timeoutMs` (default 5000). */
export async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** A port that was free a moment ago, found by letting the kernel choose one. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));

  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function findMosquitto(): string | undefined {
  // Debian installs it in /usr/sbin, which is not on every user's PATH.
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin'];

  return dirs.map((dir) => path.join(dir, 'mosquitto')).find((file) => existsSync(file));
}

class MosquittoBroker implements TestBroker {
  readonly kind = 'mosquitto';
  private child: ChildProcess | undefined;
  private stderrTail = '';
  private readonly dir = mkdtempSync(path.join(os.tmpdir(), 'edge-pothole-mosquitto-'));

  constructor(private readonly binary: string, readonly port: number) {
    // `user` = us: as root, mosquitto would otherwise switch to the `mosquitto` user, which
    // cannot write its persistence file into our private temp directory.
    const config = [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${this.dir}/`,
      'log_dest stderr',
      `user ${os.userInfo().username}`,
    ];
    writeFileSync(path.join(this.dir, 'mosquitto.conf'), `${config.join('\n')}\n`);
    // A crashed test file must not leave a broker behind.
    process.once('exit', () => this.child?.kill('SIGKILL'));
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  private exited(): boolean {
    return !this.child || this.child.exitCode !== null || this.child.signalCode !== null;
  }

  async start(): Promise<void> {
    const conf = path.join(this.dir, 'mosquitto.conf');
    this.child = spawn(this.binary, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-2000);
    });

    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await accepts(this.port))) {
      if (this.exited() || Date.now() > deadline) {
        throw new Error(`mosquitto did not start on port ${this.port}:\n${this.stderrTail}`);
      }
      await sleep(25);
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || this.exited()) return;

    const exit = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exit;
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

class AedesBroker implements TestBroker {
  readonly kind = 'aedes';
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  // One broker for the whole test: stop() only closes its port, so sessions survive.
  private broker: Aedes | undefined;

  constructor(readonly port: number) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!this.broker) {
      const { Aedes } = await import('aedes');
      this.broker = await Aedes.createBroker();
    }

    const broker = this.broker;
    const server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      broker.handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', resolve);
    });
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;

    this.server = undefined;
    const closed = new Promise((resolve) => server.close(resolve));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  async close(): Promise<void> {
    await this.stop();
    const broker = this.broker;
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
  }
}

let fallbackReported = false;

/** Starts a broker of the kind the machine offers (see the module comment). */
export async function startTestBroker(): Promise<TestBroker> {
  const wanted = process.env.EDGE_POTHOLE_TEST_BROKER;
  const mosquitto = wanted === 'aedes' ? undefined : findMosquitto();
  if (wanted === 'mosquitto' && !mosquitto) {
    throw new Error('EDGE_POTHOLE_TEST_BROKER=mosquitto but no mosquitto binary was found');
  }
  if (!mosquitto && !wanted && !fallbackReported) {
    fallbackReported = true;
    process.stderr.write('mosquitto not installed: tests use the in-process aedes broker\n');
  }

  const port = await freePort();
  const broker = mosquitto ? new MosquittoBroker(mosquitto, port) : new AedesBroker(port);
  await broker.start();

  return broker;
}

/** One message as a test sees it: payload parsed as JSON when it is JSON. */
export interface Received {
  topic: string;
  payload: unknown;
  retain: boolean;
}

export interface TestSubscriber {
  readonly client: MqttClient;
  readonly messages: Received[];
  /** Resolves with the first `count` messages; rejects after `timeoutMs` (default 5000). */
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

function parse(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString());
  } catch {
    return payload.toString();
  }
}

/** Connects to `url`, subscribes to `filter` at QoS 1 and collects what arrives. */
export async function subscribe(
  url: string,
  filter: string,
  options: IClientOptions = {},
): Promise<TestSubscriber> {
  const client = await connectAsync(url, { reconnectPeriod: 100, ...options });
  const messages: Received[] = [];
  client.on('message', (topic, payload, packet) => {
    messages.push({ topic, payload: parse(payload), retain: packet.retain });
  });
  await client.subscribeAsync(filter, { qos: 1 });

  const waitFor = async (count: number, timeoutMs = 5000) => {
    await waitUntil(() => messages.length >= count, timeoutMs).catch(() => {
      const got = JSON.stringify(messages);
      throw new Error(`expected ${count} messages on ${filter} in ${timeoutMs} ms; got ${got}`);
    });

    return messages.slice(0, count);
  };

  return { client, messages, waitFor, close: () => client.endAsync(true) };
}
