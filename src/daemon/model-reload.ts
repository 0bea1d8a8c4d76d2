import { describeError } from '../util/errors';
import { stageLogger } from '../util/logger';
import type { Running } from './running';
import { loadCheckedModel } from './start';

/**
 * SIGHUP: loads the model directory again and swaps the head into the running engine, so a
 * retrained model takes over without dropping the broker connection or the camera. A model
 * that does not load (missing file, wrong labels, other backbone layer) leaves the old one
 * in place and says why; the daemon keeps running.
 */
export async function reloadModel(running: Running): Promise<boolean> {
  const log = stageLogger('daemon');
  const { engine, model: old } = running;
  if (!engine || !old) return false;

  try {
    const model = await loadCheckedModel(running.config.model, running.config.positive_label);
    if (model.metadata.backbone.layer !== engine.backbone.layer) {
      throw new Error(`it was trained on backbone layer ${model.metadata.backbone.layer}, the ` +
        `running engine pools ${engine.backbone.layer}; restart the daemon to switch layers`);
    }

    await engine.setHead(model.head);
    running.model = model;
    if (running.loop) running.loop.model = model;
    running.publisher?.updateStatus({ model: model.ref });
    log.info({ model: model.dir, sha256: model.ref.sha256, previous: old.ref.sha256 },
      'model reloaded');

    return true;
  } catch (err) {
    log.error({ model: running.config.model, err: describeError(err), kept: old.ref.sha256 },
      'model reload failed; keeping the previous model');

    return false;
  }
}
