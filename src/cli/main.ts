import { describeError, EdgePotholeError } from '../util/errors';

/** Each subcommand lives in its own file and exports `run(argv): Promise<exitCode>`. */
interface CommandModule {
  run: (argv: string[]) => Promise<number>;
}

interface Subcommand {
  summary: string;
  /** Loaded on demand: `watch` should not pay for TensorFlow's start-up. */
  load: () => CommandModule;
}

const SUBCOMMANDS: Record<string, Subcommand> = {
  run: { summary: 'run the daemon: camera -> model -> MQTT', load: () => require('./run') },
  classify: {
    summary: 'classify image files (like label_image.py)',
    load: () => require('./classify'),
  },
  retrain: {
    summary: 'train the final layer on a folder per class',
    load: () => require('./retrain'),
  },
  watch: { summary: 'print the MQTT messages of edge-pothole', load: () => require('./watch') },
  evaluate: {
    summary: "report a model's accuracy on a labelled folder",
    load: () => require('./evaluate'),
  },
  bench: { summary: 'measure inference and pipeline speed', load: () => require('./bench') },
  config: {
    summary: 'print or check the effective configuration',
    load: () => require('./config'),
  },
};

/** sysexits.h: 64 = bad command line, 78 = bad configuration; anything else is 1. */
const EXIT_CODES: Partial<Record<string, number>> = { EP_USAGE: 64, EP_CONFIG_INVALID: 78 };

function usage(): string {
  const lines = Object.entries(SUBCOMMANDS).map(
    ([name, cmd]) => `  ${name.padEnd(10)} ${cmd.summary}`,
  );

  return [
    'usage: edge-pothole <command> [options]',
    '',
    'commands:',
    ...lines,
    '',
    'edge-pothole <command> --help shows the options of a command.',
  ].join('\n');
}

/** Entry point of the `edge-pothole` binary; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);

    return name ? 0 : 64;
  }

  const subcommand = SUBCOMMANDS[name];
  if (!subcommand) {
    process.stderr.write(`edge-pothole: unknown command "${name}"\n\n${usage()}\n`);

    return 64;
  }

  try {
    return await subcommand.load().run(rest);
  } catch (err) {
    const code = err instanceof EdgePotholeError ? `[${err.code}] ` : '';
    process.stderr.write(`edge-pothole ${name}: ${code}${describeError(err)}\n`);

    return (err instanceof EdgePotholeError && EXIT_CODES[err.code]) || 1;
  }
}
