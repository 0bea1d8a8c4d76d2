import { EdgePotholeError } from '../util/errors';

/**
 * Checks the parts of MQTT topic names that come from configuration. A `+` or `#` would
 * turn a topic we publish to into a filter that brokers reject, and a `/` in the vehicle id
 * would shift every subscriber's `<prefix>/<vehicle>/...` pattern by one level.
 */

/** Forbidden in every topic part: the two wildcards, and NUL which MQTT disallows. */
const WILDCARD_OR_NUL = /[+#\u0000]/;

/**
 * Throws `EP_CONFIG_INVALID` unless `vehicleId` is one non-empty topic level without
 * `/`, `+`, `#` or NUL. `field` is the name the user wrote, e.g. `vehicleId` or `--vehicle-id`.
 */
export function assertVehicleId(vehicleId: string, field = 'vehicleId'): void {
  if (vehicleId.length === 0 || vehicleId.includes('/') || WILDCARD_OR_NUL.test(vehicleId)) {
    throw new EdgePotholeError(
      'EP_CONFIG_INVALID',
      `${field} must be one non-empty MQTT topic level without "/", "+" or "#"; ` +
        `received ${JSON.stringify(vehicleId)}`,
    );
  }
}

/**
 * Throws `EP_CONFIG_INVALID` unless `prefix` is one or more non-empty topic levels joined
 * by `/`, without `+`, `#` or NUL, and not starting with `$` (brokers reserve `$SYS`).
 */
export function assertTopicPrefix(prefix: string, field = 'topicPrefix'): void {
  const levels = prefix.split('/');
  const bad =
    WILDCARD_OR_NUL.test(prefix) || prefix.startsWith('$') || levels.some((l) => l === '');
  if (bad) {
    throw new EdgePotholeError(
      'EP_CONFIG_INVALID',
      `${field} must be non-empty MQTT topic levels separated by "/", without "+", "#", ` +
        `empty levels or a leading "$"; received ${JSON.stringify(prefix)}`,
    );
  }
}
