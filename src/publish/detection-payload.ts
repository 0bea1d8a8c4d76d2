import { randomUUID } from 'node:crypto';

import type { Frame } from '../capture/source';
import type { FrameDecision } from '../decide/threshold';
import type { DetectionMessage, ModelRef } from './messages';

export interface PayloadContext {
  vehicleId: string;
  model: ModelRef;
}

/** The contract-v1 detection for one frame that crossed the threshold. */
export function detectionPayload(
  frame: Frame,
  frameSeq: number,
  decision: FrameDecision,
  context: PayloadContext,
  decidedAt: Date = new Date(),
): DetectionMessage {
  return {
    id: randomUUID(),
    label: decision.label,
    confidence: decision.confidence,
    scores: decision.scores,
    captured_at: frame.capturedAt.toISOString(),
    vehicle_id: context.vehicleId,
    source: frame.source,
    frame_seq: frameSeq,
    model: context.model,
    latency_ms: decidedAt.getTime() - frame.capturedAt.getTime(),
    ...(frame.location ? { location: frame.location } : {}),
  };
}
