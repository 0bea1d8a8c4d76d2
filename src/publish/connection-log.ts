import type { MqttClient } from 'mqtt';
import type { Logger } from '../util/logger';

/**
 * Logs the connection of an MQTT.js client once per change of state, not once per retry:
 * MQTT.js retries every `reconnectPeriod` and emits `error` each time, which would fill the
 * journal of a vehicle parked out of coverage for a night.
 */

/** `brokerUrl` without the user name and password it may carry, for logs. */
export function redactUrl(brokerUrl: string): string {
  try {
    const url = new URL(brokerUrl);
    if (url.username || url.password) {
      url.username = 'redacted';
      url.password = '';
    }

    return url.toString();
  } catch {
    // Not a URL at all: MQTT.js will say so through `error`; do not echo the raw text,
    // which could hold a password in a form URL does not recognise.
    return '(unparseable broker URL)';
  }
}

/**
 * MQTT.js gives connection refusals (bad credentials, client id rejected) a numeric reason
 * code; socket errors carry a string code such as ECONNREFUSED.
 */
function isRefusal(err: Error): boolean {
  return typeof (err as { code?: unknown }).code === 'number';
}

function problemKey(err: Error): string {
  const code = (err as { code?: unknown }).code;

  return code === undefined ? err.message : String(code);
}

/**
 * Attaches the listeners: info on connect; one warn per outage (when an established link is
 * lost, or when the first attempt fails); an error, once per reason, when the broker refuses
 * us, because an operator must fix that. Also guarantees an `error` listener, without which
 * Node would crash on ECONNREFUSED.
 */
export function logConnectionChanges(client: MqttClient, log: Logger, brokerUrl: string): void {
  const broker = redactUrl(brokerUrl);
  let online = false;
  let offlineSince = Date.now();
  let warnedThisOutage = false;
  let reportedRefusal: string | undefined;
  let lastError: Error | undefined;

  client.on('connect', (connack) => {
    const offlineMs = Date.now() - offlineSince;
    log.info({ broker, sessionPresent: connack.sessionPresent, offlineMs }, 'broker connected');
    online = true;
    warnedThisOutage = false;
    reportedRefusal = undefined;
    lastError = undefined;
  });

  client.on('error', (err) => {
    lastError = err;
    const refusal = isRefusal(err);
    // While online, the `offline` that follows a lost link reports the error.
    const fresh = refusal ? problemKey(err) !== reportedRefusal : !online && !warnedThisOutage;
    if (!fresh) {
      log.debug({ broker, err }, 'broker error');

      return;
    }

    if (refusal) {
      reportedRefusal = problemKey(err);
      log.error({ broker, err }, 'broker refused the connection; retrying');
    } else {
      warnedThisOutage = true;
      log.warn({ broker, err }, 'broker unreachable; retrying');
    }
  });

  client.on('offline', () => {
    offlineSince = Date.now();
    if (!online) return;

    online = false;
    warnedThisOutage = true;
    log.warn({ broker, err: lastError }, 'broker connection lost; retrying');
  });
}
