import { parseArgs } from 'node:util';

import { EdgePotholeError } from '../util/errors';

export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  default?: string | boolean;
}

export interface ParsedFlags {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/**
 * retrain.py and label_image.py spell flags in snake_case; Unix users type kebab-case.
 * Both are accepted: `--image-dir` is read as `--image_dir`.
 */
function snakeCaseFlag(token: string): string {
  if (!token.startsWith('--')) return token;

  const equals = token.indexOf('=');
  const name = equals < 0 ? token : token.slice(0, equals);
  const rest = equals < 0 ? '' : token.slice(equals);

  return `--${name.slice(2).replace(/-/g, '_')}${rest}`;
}

/** parseArgs names the flag as normalised; show it as the user typed it (`--output-grpah`). */
function asTyped(message: string, typed: string[], normalised: string[]): string {
  let result = message;
  normalised.forEach((token, i) => {
    const name = token.split('=')[0];
    const typedName = typed[i].split('=')[0];
    if (name !== typedName) result = result.split(name).join(typedName);
  });

  return result;
}

/** Parses flags strictly: an unknown flag or a missing value is a usage error naming it. */
export function parseFlags(
  argv: string[],
  specs: Record<string, FlagSpec>,
  usage: string,
): ParsedFlags {
  const endOfFlags = argv.indexOf('--');
  const normalised = argv.map((token, i) =>
    endOfFlags >= 0 && i > endOfFlags ? token : snakeCaseFlag(token),
  );
  try {
    const { values, positionals } = parseArgs({
      args: normalised,
      options: specs,
      strict: true,
      allowPositionals: true,
    });

    return { values: values as ParsedFlags['values'], positionals };
  } catch (err) {
    throw new EdgePotholeError(
      'EP_USAGE',
      `${asTyped((err as Error).message, argv, normalised)}` + `\n\n${usage}`,
      { cause: err },
    );
  }
}

/** A numeric flag, checked against a range; the error names the flag and the value given. */
export function numberFlag(
  values: ParsedFlags['values'],
  name: string,
  fallback: number,
  range: { min?: number; max?: number; integer?: boolean } = {},
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;

  const value = Number(raw);
  const bad =
    typeof raw !== 'string' ||
    raw.trim() === '' ||
    !Number.isFinite(value) ||
    (range.integer && !Number.isInteger(value)) ||
    (range.min !== undefined && value < range.min) ||
    (range.max !== undefined && value > range.max);
  if (bad) {
    const expected = [
      range.integer ? 'an integer' : 'a number',
      range.min !== undefined ? `>= ${range.min}` : '',
      range.max !== undefined ? `<= ${range.max}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    throw new EdgePotholeError('EP_USAGE', `--${name} must be ${expected}, got "${String(raw)}"`);
  }

  return value;
}

/** A string flag or its default. */
export function stringFlag(
  values: ParsedFlags['values'],
  name: string,
  fallback?: string,
): string | undefined {
  const raw = values[name];

  return typeof raw === 'string' ? raw : fallback;
}
