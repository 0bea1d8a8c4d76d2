import convict from 'convict';

/**
 * The strict value formats of the configuration schema, registered with convict once when
 * this module loads. Each `validate` throws a message that says what is allowed; convict
 * prefixes the key.
 */

/**
 * Convict appends ": value was X" only for truthy values; a bad 0, "" or false would go
 * unnamed, so the message names those itself.
 */
export function falsyValue(value: unknown): string {
  return value ? '' : `: value was ${JSON.stringify(value)}`;
}

/**
 * Env vars and flags arrive as strings. Convict's own number formats parseFloat them, which
 * reads "0.7x" as 0.7; these accept a string only when all of it is a number, and otherwise
 * keep the string so that validation reports it as given.
 */
function strictNumber(raw: string): number | string {
  const trimmed = raw.trim();

  return trimmed !== '' && Number.isFinite(Number(trimmed)) ? Number(trimmed) : raw;
}

const BOOLEAN_WORDS: Record<string, boolean> = {
  true: true, false: false, '1': true, '0': false, yes: true, no: false, on: true, off: false,
};

function numberFormat(allowed: string, ok: (value: number) => boolean) {
  return {
    coerce: strictNumber,
    validate(value: unknown) {
      if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) {
        throw new Error(`must be ${allowed}${falsyValue(value)}`);
      }
    },
  };
}

convict.addFormats({
  'unit-interval': numberFormat('a number from 0 to 1', (v) => v >= 0 && v <= 1),
  'non-negative-number': numberFormat('a number >= 0', (v) => v >= 0),
  'positive-number': numberFormat('a number > 0', (v) => v > 0),
  'whole-number': numberFormat('a whole number >= 0', (v) => Number.isInteger(v) && v >= 0),
  'positive-integer': numberFormat('a whole number >= 1', (v) => Number.isInteger(v) && v >= 1),
  'tcp-port': numberFormat('a whole number from 1 to 65535',
    (v) => Number.isInteger(v) && v >= 1 && v <= 65535),
  'mqtt-protocol': numberFormat('4 (MQTT 3.1.1) or 5 (MQTT 5.0)', (v) => v === 4 || v === 5),
  'strict-boolean': {
    // Convict's Boolean reads anything but "false" as true, so "0" and "no" would switch on.
    coerce: (raw: string) => BOOLEAN_WORDS[raw.trim().toLowerCase()] ?? raw,
    validate(value: unknown) {
      if (typeof value !== 'boolean') {
        throw new Error(`must be true or false (also 1/0, yes/no, on/off)${falsyValue(value)}`);
      }
    },
  },
});

/** A string without NUL or a line break: paths and host names that reach a child process. */
export function plainString(value: unknown): void {
  if (typeof value !== 'string' || /[\u0000\r\n]/.test(value)) {
    throw new Error('must be a string without NUL or line breaks');
  }
}

/** An empty string, or a path without NUL or a line break (an optional file). */
export function optionalPath(value: unknown): void {
  plainString(value);
}
