import type { IClientOptions, MqttClient } from 'mqtt';

import type { MqttPublisherOptions } from './mqtt-publisher';

/** The publisher's options with every default filled in, secrets kept apart. */
export type ResolvedPublisherOptions =
  Required<Omit<MqttPublisherOptions, 'username' | 'password' | 'tls'>>;

type Secrets = Pick<MqttPublisherOptions, 'username' | 'password' | 'tls'>;

/** The MQTT.js options of the publisher's one client. */
export function clientOptions(o: ResolvedPublisherOptions, secrets: Secrets,
  will: { topic: string; payload: Buffer }): IClientOptions {
  return {
    username: secrets.username,
    password: secrets.password,
    ...(secrets.tls ?? {}),
    // Verify the broker's certificate always; a car on a public network must not talk to
    // whoever answers on the broker's address.
    rejectUnauthorized: true,
    clientId: o.clientId,
    protocolVersion: o.protocolVersion,
    reconnectPeriod: o.reconnectPeriodMs,
    connectTimeout: o.connectTimeoutMs,
    keepalive: o.keepaliveSeconds,
    // Retry even after the broker refused us (bad password, id rejected): the broker may be
    // fixed while the vehicle drives, and restarts are systemd's business, not ours.
    reconnectOnConnackError: true,
    // clean: true on purpose. The offline queue is not the broker's session: MQTT.js keeps
    // every unacknowledged QoS 1 publish in its outgoingStore and replays it on each
    // connect whatever `clean` says. A persistent session (clean: false) would only make
    // the broker keep subscriptions and inbound messages for this id, and we subscribe to
    // nothing. A replayed message the broker had already received is a duplicate;
    // subscribers drop it by `id` (QoS 1 is at least once anyway).
    clean: true,
    // Stats at QoS 0 are stale after an outage; failing them is better than a burst.
    queueQoSZero: false,
    will: { ...will, qos: 1, retain: true },
  };
}

/**
 * Doubles the wait between reconnect attempts after each failed one, up to `maxMs`, and
 * resets it on connect, so that a fleet whose broker comes back is not hammered by every
 * car at once. MQTT.js reads `options.reconnectPeriod` afresh before each attempt.
 */
export function backOffReconnects(client: MqttClient, firstMs: number, maxMs: number): void {
  let connectedSinceLastClose = false;
  client.on('connect', () => {
    connectedSinceLastClose = true;
    client.options.reconnectPeriod = firstMs;
  });
  client.on('close', () => {
    if (connectedSinceLastClose) {
      connectedSinceLastClose = false;

      return;
    }
    const current = client.options.reconnectPeriod ?? firstMs;
    client.options.reconnectPeriod = Math.min(maxMs, current * 2);
  });
}
