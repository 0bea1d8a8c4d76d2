import { describeError } from '../util/errors';
import { stageLogger } from '../util/logger';
import type { Running } from './running';

/** Why the daemon stops: it decides how long the outbox may take to drain. */
export type StopReason = 'source ended' | 'signal' | 'start failed';

/**
 * Seconds a signal-initiated stop lets the outbox drain: SIGTERM must end in 10 s (the
 * publisher's goodbye takes up to 4 more), and what is left goes out after the next start.
 */
const SIGNAL_DRAIN_SECONDS = 3;

function drainSeconds(running: Running, reason: StopReason): number {
  const configured = running.config.publish.drain_seconds;
  if (reason === 'source ended') return configured;
  if (reason === 'signal') return Math.min(configured, SIGNAL_DRAIN_SECONDS);

  return 0;
}

async function drain(running: Running, reason: StopReason): Promise<void> {
  const { sender, outbox } = running;
  if (!sender || !outbox) return;

  const seconds = drainSeconds(running, reason);
  const empty = seconds > 0 ? await sender.drain(seconds * 1000) : outbox.depth === 0;
  if (!empty) {
    stageLogger('daemon').warn({ left: outbox.depth, drainSeconds: seconds },
      'outbox not empty at exit; the rest goes out after the next start');
  }
}

type StopStep = [string, (running: Running) => Promise<unknown> | unknown];

/** The reverse of START_STEPS, plus the drain; each step tolerates what never started. */
function stopSteps(reason: StopReason): StopStep[] {
  return [
    ['systemd', (r) => r.notifier?.markStopping()],
    ['stats', (r) => {
      r.stats?.stop();
      if (r.publisher?.connected) r.stats?.tick();
    }],
    ['source', (r) => r.source?.close()],
    ['gps', (r) => r.gps?.stop()],
    ['snapshots', (r) => r.snapshots?.flush()],
    ['drain', (r) => drain(r, reason)],
    ['sender', (r) => r.sender?.stop()],
    ['mqtt', (r) => r.publisher?.stop()],
    ['outbox', (r) => r.outbox?.close()],
    ['embedded broker', (r) => r.broker?.close()],
    ['engine', (r) => r.engine?.dispose()],
  ];
}

/** Stops in reverse order; each step's failure is logged and turns the exit code to 1. */
export async function stopAll(running: Running, reason: StopReason): Promise<number> {
  const log = stageLogger('daemon');
  let exitCode = 0;

  for (const [name, step] of stopSteps(reason)) {
    try {
      await step(running);
    } catch (err) {
      exitCode = 1;
      log.error({ step: name, err: describeError(err) }, 'stop step failed');
    }
  }
  log.info({ exitCode, reason }, 'daemon stopped');

  return exitCode;
}
