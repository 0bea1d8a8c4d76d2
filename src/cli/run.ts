import { configFlags, loadConfig } from '../config/load';
import { runDaemon } from '../daemon/app';
import { configureLogger } from '../util/logger';
import { parseFlags, type FlagSpec } from './args';

const USAGE = `usage: edge-pothole run [--config FILE] [--source SPEC] [--broker URL] [--model DIR]
                        [--threshold X] [--vehicle-id ID] [--fps N] [--state-dir DIR] [--KEY VALUE]

Runs the daemon: frames from the source -> Inception v3 + the retrained layer -> detections on
MQTT. Every configuration key can be set in the config file (default
/etc/edge-pothole/config.json when it exists), as an EDGE_POTHOLE_* env var, or as a flag
(e.g. --mqtt.topic_prefix). Precedence: defaults < file < env < flags.

  --source SPEC      dir:PATH (replay image files in name order) or webcam:/dev/videoN
  --broker URL       mqtt://host:port
  --model DIR        model directory written by "edge-pothole retrain"
  --threshold X      pothole confidence 0..1 to publish a detection
  --vehicle-id ID    second topic level; default the host name
  --fps N            frames per second to take; 0 = as fast as inference allows
  --source.loop      replay a dir: source forever
  --engine NAME      auto, onnxruntime or tfjs

The broker password comes from EDGE_POTHOLE_MQTT_PASSWORD, never from a flag.
`;

export async function run(argv: string[]): Promise<number> {
  const specs: Record<string, FlagSpec> = { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } };
  for (const [name, type] of Object.entries(configFlags())) specs[name] = { type };
  const { values, positionals } = parseFlags(argv, specs, USAGE);
  if (values.help) {
    process.stdout.write(USAGE);

    return 0;
  }
  if (positionals.length > 0) {
    process.stderr.write(`edge-pothole run: unexpected argument "${positionals[0]}"\n\n${USAGE}`);

    return 64;
  }

  const { config: file, help: _help, ...flags } = values;
  const config = loadConfig({
    file: typeof file === 'string' ? file : undefined,
    flags: flags as Record<string, string | boolean>,
  });
  configureLogger({ fd: 1 });

  return runDaemon(config);
}
