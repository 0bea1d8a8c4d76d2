import { configFlags } from '../config/load';
import { parseFlags, type FlagSpec, type ParsedFlags } from './args';

/**
 * A boolean key must be settable to false from the command line too (`--source.loop false`),
 * which parseArgs' boolean flags cannot take. So boolean keys are read as strings: a bare
 * `--source.loop` means true, and a following word that is not a flag is its value, checked by
 * the schema, whose message names the key and the value. (run and config take no positional
 * arguments, so nothing else can be meant.)
 */
function withBooleanValues(argv: string[], booleans: Set<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    const name = token.startsWith('--') ? token.slice(2).replace(/-/g, '_') : '';
    if (!booleans.has(name)) {
      out.push(token);
      continue;
    }

    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('-')) {
      out.push(`${token}=${next}`);
      i += 1;
    } else {
      out.push(`${token}=true`);
    }
  }

  return out;
}

/** Parses `run` and `config` flags: every configuration key, plus the command's own flags. */
export function parseConfigFlags(
  argv: string[],
  ownFlags: Record<string, FlagSpec>,
  usage: string,
): ParsedFlags {
  const specs: Record<string, FlagSpec> = { ...ownFlags };
  const booleans = new Set<string>();
  for (const [name, type] of Object.entries(configFlags())) {
    specs[name] = { type: 'string' };
    if (type === 'boolean') booleans.add(name);
  }

  return parseFlags(withBooleanValues(argv, booleans), specs, usage);
}
