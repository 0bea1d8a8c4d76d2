import { EdgePotholeError } from '../util/errors';

/** What the daemon decided about one frame. Pure data: no MQTT, no TensorFlow. */
export interface FrameDecision {
  /** True when the positive label's confidence is at or above the threshold. */
  detected: boolean;
  label: string;
  /** Confidence of `label` in [0, 1]. */
  confidence: number;
  scores: Record<string, number>;
}

/**
 * A frame is a detection when the positive label's score is at or above `threshold`; the
 * decision then names that label even if another is marginally higher (it cannot be with two
 * classes and threshold >= 0.5, but a user may set a lower threshold on purpose).
 */
export function decideFrame(
  probabilities: ArrayLike<number>,
  labels: string[],
  positiveLabel: string,
  threshold: number,
): FrameDecision {
  const positive = labels.indexOf(positiveLabel);
  if (positive < 0) {
    throw new EdgePotholeError('EP_CONFIG_INVALID', `positive_label "${positiveLabel}" is not ` +
      `among the model's labels (${labels.join(', ')}); set positive_label to one of them`);
  }

  const scores: Record<string, number> = {};
  labels.forEach((label, i) => { scores[label] = probabilities[i]; });
  const detected = probabilities[positive] >= threshold;

  return { detected, label: positiveLabel, confidence: probabilities[positive], scores };
}
