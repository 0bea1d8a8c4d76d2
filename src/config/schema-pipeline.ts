import { plainString } from './formats';

/** The decide, outbox, publish, gps and snapshot sections of the schema. */

function gpsHost(value: unknown): void {
  plainString(value);
  if (/[\s/]/.test(value as string)) throw new Error('must be a host name or address, or empty');
}

function roiField(name: string, fallback: number, doc: string) {
  return {
    doc: `Region of interest, ${doc}, relative to the frame (0..1).`,
    format: 'unit-interval',
    default: fallback,
    env: `EDGE_POTHOLE_PREPROCESS_ROI_${name.toUpperCase()}`,
    arg: `preprocess.roi.${name}`,
  };
}

function tileCount(name: string, doc: string) {
  return {
    doc: `Tiles the region of interest is cut into, ${doc} (1..8); the frame's confidence is ` +
      'the highest tile\'s. Default 1 (see docs/accuracy.md before raising it).',
    format: 'positive-integer',
    default: 1,
    env: `EDGE_POTHOLE_PREPROCESS_TILES_${name.toUpperCase()}`,
    arg: `preprocess.tiles.${name}`,
  };
}

export const pipelineSchema = {
  preprocess: {
    roi: {
      left: roiField('left', 0, 'left edge'),
      top: roiField('top', 0, 'top edge'),
      width: roiField('width', 1, 'width'),
      height: roiField('height', 1, 'height'),
    },
    tiles: {
      columns: tileCount('columns', 'across'),
      rows: tileCount('rows', 'down'),
    },
  },
  decide: {
    window: {
      doc: 'Temporal filter: frames looked at (M of "N of M").',
      format: 'positive-integer',
      default: 3,
      env: 'EDGE_POTHOLE_DECIDE_WINDOW',
      arg: 'decide.window',
    },
    min_frames: {
      doc: 'Temporal filter: frames at or above the threshold among the last decide.window ' +
        'that open an event (N of "N of M"); at most decide.window.',
      format: 'positive-integer',
      default: 2,
      env: 'EDGE_POTHOLE_DECIDE_MIN_FRAMES',
      arg: 'decide.min_frames',
    },
    gap_frames: {
      doc: 'Frames below the threshold in a row that close an open event.',
      format: 'positive-integer',
      default: 3,
      env: 'EDGE_POTHOLE_DECIDE_GAP_FRAMES',
      arg: 'decide.gap_frames',
    },
  },
  outbox: {
    max_messages: {
      doc: 'Messages the on-disk outbox keeps at most; when full, the oldest are dropped ' +
        '(counted in stats).',
      format: 'positive-integer',
      default: 100000,
      env: 'EDGE_POTHOLE_OUTBOX_MAX_MESSAGES',
      arg: 'outbox.max_messages',
    },
    max_age_seconds: {
      doc: 'Messages older than this are dropped from the outbox, seconds; 0 = no limit.',
      format: 'whole-number',
      default: 604800,
      env: 'EDGE_POTHOLE_OUTBOX_MAX_AGE_SECONDS',
      arg: 'outbox.max_age_seconds',
    },
    replay_per_second: {
      doc: 'Messages sent per second at most, so an outage\'s backlog does not flood the link.',
      format: 'positive-number',
      default: 50,
      env: 'EDGE_POTHOLE_OUTBOX_REPLAY_PER_SECOND',
      arg: 'outbox.replay_per_second',
    },
  },
  publish: {
    drain_seconds: {
      doc: 'When a finite source ends, seconds to wait for the outbox to empty before exiting; ' +
        'what is left goes out after the next start.',
      format: 'non-negative-number',
      default: 30,
      env: 'EDGE_POTHOLE_PUBLISH_DRAIN_SECONDS',
      arg: 'publish.drain_seconds',
    },
  },
  gps: {
    host: {
      doc: 'gpsd host; empty = no GPS. Detections and events then carry a location.',
      format: gpsHost,
      default: '',
      env: 'EDGE_POTHOLE_GPS_HOST',
      arg: 'gps.host',
    },
    port: {
      doc: 'gpsd TCP port.',
      format: 'tcp-port',
      default: 2947,
      env: 'EDGE_POTHOLE_GPS_PORT',
      arg: 'gps.port',
    },
    max_age_seconds: {
      doc: 'A fix older than this is not attached to a detection, seconds.',
      format: 'positive-number',
      default: 5,
      env: 'EDGE_POTHOLE_GPS_MAX_AGE_SECONDS',
      arg: 'gps.max_age_seconds',
    },
  },
  snapshot: {
    max_count: {
      doc: 'JPEG snapshots of events\' peak frames kept in <state_dir>/snapshots; 0 = none.',
      format: 'whole-number',
      default: 0,
      env: 'EDGE_POTHOLE_SNAPSHOT_MAX_COUNT',
      arg: 'snapshot.max_count',
    },
    max_bytes: {
      doc: 'Bytes all snapshots may use together; the oldest are removed first.',
      format: 'positive-integer',
      default: 100 * 1024 * 1024,
      env: 'EDGE_POTHOLE_SNAPSHOT_MAX_BYTES',
      arg: 'snapshot.max_bytes',
    },
  },
};
