import * as tf from '@tensorflow/tfjs';

import { stageLogger } from '../util/logger';

/** Which TensorFlow.js backend to use: `auto` tries native TensorFlow, then wasm, then cpu. */
export type TfBackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

// Production mode drops tfjs's debug checks and its console banner urging tfjs-node, which
// misleads here: the speed comes from ONNX Runtime, tfjs is the loader and the fallback. Set
// on import, because the model directory is read (on the cpu backend) before any engine starts.
tf.enableProdMode();

let activeBackend: string | undefined;

/**
 * Native TensorFlow (`@tensorflow/tfjs-node`) is an optional dependency: its install step
 * downloads libtensorflow, which fails on machines without internet, and then it is absent.
 */
function tryLoadTfjsNode(): boolean {
  try {
    require('@tensorflow/tfjs-node');

    return tf.findBackend('tensorflow') !== undefined;
  } catch {
    return false;
  }
}

async function trySetBackend(name: string): Promise<boolean> {
  try {
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch {
    return false;
  }
}

/**
 * Picks and initialises the TensorFlow.js backend once per process and logs which one is
 * active. Later calls return the backend chosen by the first.
 */
export async function initTensorflow(preference: TfBackendPreference = 'auto'): Promise<string> {
  if (activeBackend) return activeBackend;

  const candidates = preference === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [preference];
  for (const name of candidates) {
    if (name === 'tensorflow' && !tryLoadTfjsNode()) continue;
    if (name === 'wasm') require('@tensorflow/tfjs-backend-wasm');
    if (await trySetBackend(name)) {
      await tf.ready();
      activeBackend = name;
      stageLogger('infer').info({ tfBackend: name, preference }, 'tensorflow backend ready');

      return name;
    }
  }

  throw new Error(`no TensorFlow.js backend among ${candidates.join(', ')} could start`);
}

export { tf };
