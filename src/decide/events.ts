/**
 * One alert per pothole passage. A car sees a pothole in several frames in a row; a single
 * frame above the threshold is more often a shadow or a manhole cover. So an event opens
 * when `minFrames` of the last `window` frames are at or above the threshold, stays open
 * while frames keep crossing it, and closes after `gapFrames` frames below it in a row.
 *
 * Pure functions of their inputs: no clock, no id generator, no I/O. The caller passes the
 * id a new event would get, and publishes what a step returns.
 */

export interface EventSettings {
  /** Confidence in [0, 1] at or above which a frame counts. */
  threshold: number;
  /** Frames looked at, M of "N of M"; >= 1. */
  window: number;
  /** Frames at or above the threshold that open an event, N of "N of M"; 1..window. */
  minFrames: number;
  /** Frames below the threshold in a row that close an event; >= 1. */
  gapFrames: number;
}

/** One inferred frame as the tracker sees it; `item` is what is released (a detection). */
export interface ScoredFrame<T> {
  confidence: number;
  capturedAt: Date;
  /** Set for frames at or above the threshold; carried through to `released`. */
  item?: T;
}

/** What an event has gathered so far, and its summary once closed. */
export interface EventSummary<T> {
  eventId: string;
  /** Capture time of its first and last frame at or above the threshold. */
  startedAt: Date;
  endedAt: Date;
  /** Frames at or above the threshold in the event. */
  frameCount: number;
  peakConfidence: number;
  /** The item of the frame with the highest confidence (the first of equals). */
  peakItem: T;
}

export interface TrackerState<T> {
  /** The last frames while no event is open, at most `window`; empty while one is open. */
  recent: Array<ScoredFrame<T>>;
  open?: EventSummary<T>;
  /** Frames below the threshold in a row since the open event's last frame above it. */
  belowRun: number;
}

export interface TrackerStep<T> {
  state: TrackerState<T>;
  /** Frames that now belong to an event, in capture order, each with that event's id. */
  released: Array<{ item: T; eventId: string }>;
  /** The event that closed with this frame, if any. */
  closed?: EventSummary<T>;
  /** Frames at or above the threshold that left the window without opening an event. */
  suppressed: number;
}

export function initialTracker<T>(): TrackerState<T> {
  return { recent: [], belowRun: 0 };
}

function isAbove<T>(frame: ScoredFrame<T>, settings: EventSettings): boolean {
  return frame.item !== undefined && frame.confidence >= settings.threshold;
}

function extend<T>(event: EventSummary<T>, frame: ScoredFrame<T>): EventSummary<T> {
  const higher = frame.confidence > event.peakConfidence;

  return {
    ...event,
    endedAt: frame.capturedAt,
    frameCount: event.frameCount + 1,
    peakConfidence: higher ? frame.confidence : event.peakConfidence,
    peakItem: higher ? (frame.item as T) : event.peakItem,
  };
}

/** A frame while an event is open: it extends the event, or counts towards closing it. */
function stepOpen<T>(state: TrackerState<T>, frame: ScoredFrame<T>,
  settings: EventSettings): TrackerStep<T> {
  const open = state.open as EventSummary<T>;
  if (isAbove(frame, settings)) {
    return { state: { recent: [], open: extend(open, frame), belowRun: 0 },
      released: [{ item: frame.item as T, eventId: open.eventId }], suppressed: 0 };
  }

  const belowRun = state.belowRun + 1;
  if (belowRun < settings.gapFrames) {
    return { state: { recent: [], open, belowRun }, released: [], suppressed: 0 };
  }

  return { state: initialTracker(), released: [], closed: open, suppressed: 0 };
}

/** Opens an event from the frames at or above the threshold in the window. */
function openEvent<T>(frames: Array<ScoredFrame<T>>, eventId: string): TrackerStep<T> {
  const [first, ...rest] = frames;
  const start: EventSummary<T> = { eventId, startedAt: first.capturedAt,
    endedAt: first.capturedAt, frameCount: 1, peakConfidence: first.confidence,
    peakItem: first.item as T };
  const open = rest.reduce(extend, start);

  return {
    state: { recent: [], open, belowRun: 0 },
    released: frames.map((f) => ({ item: f.item as T, eventId })),
    suppressed: 0,
  };
}

/**
 * Feeds one frame to the tracker. `newEventId` is used only if this frame opens an event.
 * Frames that cannot be read are not fed at all: they neither extend nor close an event.
 */
export function trackFrame<T>(state: TrackerState<T>, frame: ScoredFrame<T>,
  settings: EventSettings, newEventId: string): TrackerStep<T> {
  if (state.open) return stepOpen(state, frame, settings);

  const recent = [...state.recent, frame];
  const leaving = recent.length > settings.window ? recent.shift() : undefined;
  const suppressed = leaving && isAbove(leaving, settings) ? 1 : 0;
  const above = recent.filter((f) => isAbove(f, settings));

  if (isAbove(frame, settings) && above.length >= settings.minFrames) {
    return { ...openEvent(above, newEventId), suppressed };
  }

  return { state: { recent, belowRun: 0 }, released: [], suppressed };
}

/**
 * The source ended or the daemon stops: closes the open event, if any, and counts the
 * frames still waiting in the window as suppressed.
 */
export function finishTracker<T>(state: TrackerState<T>, settings: EventSettings):
Omit<TrackerStep<T>, 'released'> {
  const suppressed = state.recent.filter((f) => isAbove(f, settings)).length;

  return { state: initialTracker(), closed: state.open, suppressed };
}
