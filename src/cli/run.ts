import { loadConfig } from '../config/load';
import { runDaemon } from '../daemon/app';
import { configureLogger } from '../util/logger';
import { type FlagSpec } from './args';
import { parseConfigFlags } from './config-flags';

const USAGE = `usage: edge-pothole run [--config FILE] [--source SPEC] [--broker URL] [--model DIR]
                        [--threshold X] [--vehicle-id ID] [--fps N] [--state-dir DIR] [--KEY VALUE]

Runs the daemon: frames from the source -> Inception v3 + the retrained layer -> detections and
events on MQTT, through a durable outbox in the state directory. Every configuration key can
be set in the config file (default /etc/edge-pothole/config.json when it exists), as an
EDGE_POTHOLE_* env var, or as a flag (e.g. --mqtt.topic_prefix); "edge-pothole config" prints
the result. Precedence: defaults < file < env < flags. docs/daemon.md lists every key.

  --source SPEC      dir:PATH, image:FILE, file:VIDEO, v4l2:/dev/videoN, rtsp://...,
                     http(s)://... or webcam:/dev/videoN
  --broker URL       mqtt://host:port or mqtts://host:port
  --model DIR        model directory written by "edge-pothole retrain" (SIGHUP reloads it)
  --threshold X      pothole confidence 0..1 for a frame to count
  --vehicle-id ID    second topic level; default the host name
  --fps N            frames per second to take; 0 = as fast as inference allows
  --state-dir DIR    outbox and snapshots; default /var/lib/edge-pothole
  --source.loop      replay a dir: or file: source forever
  --engine NAME      auto, onnxruntime or tfjs

Signals: SIGTERM/SIGINT stop (exit 0 within 10 s), SIGHUP reloads the model.
The broker password comes from EDGE_POTHOLE_MQTT_PASSWORD, mqtt.password_file or the systemd
credential mqtt_password, never from a flag.
`;

export async function run(argv: string[]): Promise<number> {
  const ownFlags: Record<string, FlagSpec> = {
    config: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  };
  const { values, positionals } = parseConfigFlags(argv, ownFlags, USAGE);
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
