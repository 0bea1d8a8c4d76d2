import { stageLogger } from '../util/logger';

/**
 * The daemon's signals: SIGTERM and SIGINT stop it, SIGHUP reloads the model. Handlers are
 * installed for the daemon's run only, and removed after, so tests and the CLI entry keep
 * Node's defaults otherwise.
 */

export interface SignalHandlers {
  stop: (signal: NodeJS.Signals) => void;
  reload: () => void;
}

/** Installs the handlers; returns the function that removes them. */
export function installSignals(handlers: SignalHandlers): () => void {
  const log = stageLogger('daemon');
  let stopping = false;
  const onStop = (signal: NodeJS.Signals) => {
    log.info({ signal, again: stopping }, 'stop requested');
    stopping = true;
    handlers.stop(signal);
  };
  const onHangup = () => {
    log.info({ signal: 'SIGHUP' }, 'model reload requested');
    handlers.reload();
  };

  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  process.on('SIGHUP', onHangup);

  return () => {
    process.off('SIGTERM', onStop);
    process.off('SIGINT', onStop);
    process.off('SIGHUP', onHangup);
  };
}
