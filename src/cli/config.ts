import { loadConfig, maskSecrets } from '../config/load';
import { type FlagSpec } from './args';
import { parseConfigFlags } from './config-flags';

const USAGE = `usage: edge-pothole config [--check] [--config FILE] [--KEY VALUE]...

Prints the effective configuration (defaults < config file < EDGE_POTHOLE_* env vars < flags)
as JSON, with secrets masked. Takes the same flags as "edge-pothole run".

  --check        only validate: print nothing on success, exit 0
  --config FILE  config file (default /etc/edge-pothole/config.json when it exists)

exit codes: 0 valid, 64 bad usage, 78 invalid configuration (the message names each key,
the problem and the value received)`;

/** `edge-pothole config`: what `run` would use, without starting anything. */
export async function run(argv: string[]): Promise<number> {
  const ownFlags: Record<string, FlagSpec> = {
    config: { type: 'string' },
    check: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  };
  const { values, positionals } = parseConfigFlags(argv, ownFlags, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);

    return 0;
  }
  if (positionals.length > 0) {
    process.stderr.write(
      `edge-pothole config: unexpected argument "${positionals[0]}"\n\n${USAGE}\n`);

    return 64;
  }

  const { config: file, check, help: _help, ...flags } = values;
  const config = loadConfig({
    file: typeof file === 'string' ? file : undefined,
    flags: flags as Record<string, string | boolean>,
  });
  if (!check) process.stdout.write(`${JSON.stringify(maskSecrets(config), null, 2)}\n`);

  return 0;
}
