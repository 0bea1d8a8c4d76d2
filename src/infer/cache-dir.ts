import os from 'node:os';
import path from 'node:path';

/**
 * Where edge-pothole keeps files it can rebuild (exported ONNX graphs):
 * `EDGE_POTHOLE_CACHE_DIR` if set, else `$XDG_CACHE_HOME/edge-pothole`, else
 * `~/.cache/edge-pothole`. An empty variable counts as unset; a relative XDG_CACHE_HOME is
 * ignored, as the XDG base directory specification asks. `env` and `home` are for tests.
 */
export function defaultCacheDir(
  env: NodeJS.ProcessEnv = process.env,
  home: string = os.homedir(),
): string {
  const explicit = env.EDGE_POTHOLE_CACHE_DIR;
  if (explicit) return path.resolve(explicit);

  const xdg = env.XDG_CACHE_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'edge-pothole');

  return path.join(home, '.cache', 'edge-pothole');
}
