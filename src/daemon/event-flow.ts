import { randomUUID } from 'node:crypto';

import type { Frame } from '../capture/source';
import {
  finishTracker, initialTracker, trackFrame, type EventSettings, type EventSummary,
  type TrackerState, type TrackerStep,
} from '../decide/events';
import type { DetectionMessage, EventMessage } from '../publish/messages';

/**
 * Runs the pure event tracker (decide/events.ts) over the frames of the loop and turns its
 * steps into messages: detections stamped with their event id, one event message per
 * closed event. Keeps the encoded peak frame of the open event for its snapshot.
 */

export interface EventFlowOptions {
  settings: EventSettings;
  publishDetection: (message: DetectionMessage) => void;
  /** Called once per closed event with the frame of its peak (for a snapshot). */
  publishEvent?: (event: EventMessage, peakFrame: Frame) => void;
  /** Id of a new event; default randomUUID (tests pass a predictable one). */
  newId?: () => string;
}

interface Item {
  message: DetectionMessage;
  frame: Frame;
}

export interface EventCounts {
  detections: number;
  events: number;
  suppressed: number;
}

/** The contract-v1 event message of a closed event. */
export function eventMessage(summary: EventSummary<Item>): EventMessage {
  const peak = summary.peakItem.message;
  const message: EventMessage = {
    event_id: summary.eventId,
    vehicle_id: peak.vehicle_id,
    label: peak.label,
    started_at: summary.startedAt.toISOString(),
    ended_at: summary.endedAt.toISOString(),
    frame_count: summary.frameCount,
    peak_confidence: summary.peakConfidence,
    peak_detection_id: peak.id,
    source: peak.source,
    model: peak.model,
  };
  if (peak.location) message.location = peak.location;

  return message;
}

export class EventFlow {
  private state: TrackerState<Item> = initialTracker();
  readonly counts: EventCounts = { detections: 0, events: 0, suppressed: 0 };
  private readonly newId: () => string;

  constructor(private readonly options: EventFlowOptions) {
    this.newId = options.newId ?? randomUUID;
  }

  /** One inferred frame; `message` is its detection when it is at or above the threshold. */
  onFrame(frame: Frame, confidence: number, message?: DetectionMessage): void {
    const item = message ? { message, frame } : undefined;
    const step = trackFrame(this.state, { confidence, capturedAt: frame.capturedAt, item },
      this.options.settings, this.newId());

    this.apply(step);
  }

  /** Closes the open event (source ended, or the daemon stops). */
  finish(): void {
    this.apply({ ...finishTracker(this.state, this.options.settings), released: [] });
  }

  private apply(step: TrackerStep<Item>): void {
    this.state = step.state;
    this.counts.suppressed += step.suppressed;

    for (const { item, eventId } of step.released) {
      this.counts.detections += 1;
      this.options.publishDetection({ ...item.message, event_id: eventId });
    }

    if (step.closed) {
      this.counts.events += 1;
      this.options.publishEvent?.(eventMessage(step.closed), step.closed.peakItem.frame);
    }
  }
}
