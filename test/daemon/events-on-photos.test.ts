import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import type { DetectionMessage, EventMessage } from '../../src/publish/messages';
import { startTestBroker, subscribe, type TestBroker } from '../helpers/broker';
import { runCli } from '../helpers/cli';
import { SAMPLES_DIR } from '../helpers/paths';

/**
 * A drive recorded as photos, in order: road, a pothole seen in four frames, road, one
 * pothole frame alone (a flicker the filter must drop), road, a pothole seen in frames 16
 * and 18 with a road frame between, road. The shipped model scores the pothole photos
 * 0.75..0.999 and the road photos under 0.4.
 */
const DRIVE = [
  'normal/009', 'normal/02497', 'normal/frame2857',
  'pothole/img-102', 'pothole/img-109', 'pothole/img-11', 'pothole/img-186',
  'normal/frame675', 'normal/02974', 'normal/frame2163', 'normal/frame4762',
  'pothole/img-56',
  'normal/frame1144', 'normal/frame1854', 'normal/00210',
  'pothole/54', 'normal/00096', 'pothole/66',
  'normal/009', 'normal/02497', 'normal/frame2857',
];

let broker: TestBroker;
let tmp: string;

before(async () => {
  broker = await startTestBroker();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'edge-pothole-events-'));
});

after(async () => {
  await broker.close();
  await rm(tmp, { recursive: true, force: true });
});

async function recordDrive(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [i, stem] of DRIVE.entries()) {
    const [label, prefix] = stem.split('/');
    const names = await readdir(path.join(SAMPLES_DIR, label));
    const name = names.find((n) => n.startsWith(`${prefix}_jpg`)) as string;
    await copyFile(path.join(SAMPLES_DIR, label, name),
      path.join(dir, `${String(i + 1).padStart(2, '0')}.jpg`));
  }
}

test('groups a drive of real photos into one event per pothole passage, with snapshots',
  { timeout: 120_000 }, async () => {
    const drive = path.join(tmp, 'drive');
    const stateDir = path.join(tmp, 'state');
    await recordDrive(drive);
    const sub = await subscribe(broker.url, 'edge-pothole/events-car/+');

    const result = await runCli(['run', '--source', `dir:${drive}`, '--broker', broker.url,
      '--vehicle-id', 'events-car', '--state-dir', stateDir, '--threshold', '0.5',
      '--snapshot.max_count', '1', '--stats_interval_seconds', '0']);
    assert.equal(result.code, 0, result.stderr);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await sub.close();

    const detections = sub.messages.filter((m) => m.topic.endsWith('/detections'))
      .map((m) => m.payload as DetectionMessage);
    const events = sub.messages.filter((m) => m.topic.endsWith('/events'))
      .map((m) => m.payload as EventMessage);
    const frameOf = (d: DetectionMessage) => path.basename(d.source);

    assert.deepEqual(detections.map(frameOf),
      ['04.jpg', '05.jpg', '06.jpg', '07.jpg', '16.jpg', '18.jpg'], 'frame 12 is a flicker');
    assert.equal(events.length, 2);
    assert.deepEqual(events.map((e) => e.frame_count), [4, 2]);
    for (const event of events) {
      const own = detections.filter((d) => d.event_id === event.event_id);
      const peak = own.reduce((a, b) => (b.confidence > a.confidence ? b : a));
      assert.equal(event.peak_detection_id, peak.id);
      assert.equal(event.peak_confidence, peak.confidence);
      assert.equal(event.started_at, own[0].captured_at);
      assert.equal(event.ended_at, own.at(-1)?.captured_at);
      assert.equal(event.vehicle_id, 'events-car');
      assert.match(event.snapshot ?? '', /\.jpg$/);
    }
    assert.equal(frameOf(detections.find((d) => d.id === events[1].peak_detection_id) as
      DetectionMessage), '16.jpg', 'pothole 54 scores higher than pothole 66');

    // snapshot.max_count 1: only the last event's JPEG is kept, and it is the peak frame.
    const kept = await readdir(path.join(stateDir, 'snapshots'));
    assert.deepEqual(kept, [`${events[1].event_id}.jpg`]);
    assert.deepEqual(await readFile(events[1].snapshot as string),
      await readFile(path.join(drive, '16.jpg')));
  });

/** A stand-in gpsd on loopback that streams one fix every 100 ms after ?WATCH. */
async function streamingGpsd(fix: Record<string, unknown>) {
  const timers = new Set<NodeJS.Timeout>();
  const server = net.createServer((socket) => {
    socket.once('data', () => {
      const timer = setInterval(() => socket.write(`${JSON.stringify({ class: 'TPV', mode: 3,
        ...fix })}\n`), 100);
      timers.add(timer);
      socket.on('close', () => clearInterval(timer));
      socket.on('error', () => clearInterval(timer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      timers.forEach(clearInterval);
      server.close();
    },
  };
}

test('attaches the gpsd position to every detection and event when GPS is on',
  { timeout: 120_000 }, async () => {
    const drive = path.join(tmp, 'drive-gps');
    await recordDrive(drive);
    const fix = { lat: 45.464211, lon: 9.191383, speed: 8.3, track: 92.4,
      time: '2026-06-01T07:30:00.000Z' };
    const gpsd = await streamingGpsd(fix);
    const sub = await subscribe(broker.url, 'edge-pothole/gps-car/+');

    try {
      const result = await runCli(['run', '--source', `dir:${drive}`, '--broker', broker.url,
        '--vehicle-id', 'gps-car', '--state-dir', path.join(tmp, 'state-gps'),
        '--gps.host', '127.0.0.1', '--gps.port', String(gpsd.port),
        '--stats_interval_seconds', '0']);
      assert.equal(result.code, 0, result.stderr);
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      gpsd.close();
      await sub.close();
    }

    const located = sub.messages.filter((m) => /\/(detections|events)$/.test(m.topic))
      .map((m) => (m.payload as DetectionMessage | EventMessage).location);
    assert.equal(located.length, 8, 'six detections and two events');
    for (const location of located) {
      assert.deepEqual(location, { lat: 45.464211, lon: 9.191383, speed_mps: 8.3,
        heading_deg: 92.4, fix_time: '2026-06-01T07:30:00.000Z' });
    }
  });
