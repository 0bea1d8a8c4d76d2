import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';

import { GpsdClient, parseTpv } from '../../src/capture/gpsd-client';
import { waitUntil } from '../helpers/broker';

const RECEIVED = new Date('2026-05-01T10:00:00.000Z');
const TPV = { class: 'TPV', device: '/dev/ttyACM0', mode: 3, time: '2026-05-01T09:59:59.500Z',
  lat: 52.520008, lon: 13.404954, alt: 34.1, track: 271.5, speed: 13.9 };

test('reads latitude, longitude, speed, heading and fix time from a 3D TPV report', () => {
  assert.deepEqual(parseTpv(JSON.stringify(TPV), RECEIVED), { lat: 52.520008, lon: 13.404954,
    speed_mps: 13.9, heading_deg: 271.5, fix_time: '2026-05-01T09:59:59.500Z' });
});

test('ignores reports without a fix, other classes and lines that are not JSON', () => {
  assert.equal(parseTpv(JSON.stringify({ ...TPV, mode: 1 }), RECEIVED), undefined);
  assert.equal(parseTpv(JSON.stringify({ class: 'SKY', satellites: [] }), RECEIVED), undefined);
  assert.equal(parseTpv('{"class":"TPV",', RECEIVED), undefined);
});

test('leaves out speed and heading gpsd does not know, and dates a fix without time on receipt',
  () => {
    const { track: _t, speed: _s, time: _time, ...bare } = TPV;

    assert.deepEqual(parseTpv(JSON.stringify({ ...bare, mode: 2 }), RECEIVED),
      { lat: 52.520008, lon: 13.404954, fix_time: RECEIVED.toISOString() });
  });

/** A stand-in gpsd on loopback: answers ?WATCH with its banner and one TPV per connection. */
async function standInGpsd(tpvs: Array<Record<string, unknown>>) {
  const watches: string[] = [];
  const sockets = new Set<net.Socket>();
  let connection = 0;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const tpv = tpvs[Math.min(connection, tpvs.length - 1)];
    connection += 1;
    socket.write('{"class":"VERSION","release":"3.22","proto_major":3,"proto_minor":14}\n');
    socket.once('data', (data) => {
      watches.push(data.toString());
      socket.write('{"class":"DEVICES","devices":[]}\n');
      socket.write('{"class":"WATCH","enable":true,"json":true}\n');
      // Split mid-line, as TCP may deliver it.
      const line = `${JSON.stringify(tpv)}\n`;
      socket.write(line.slice(0, 20));
      setTimeout(() => socket.write(line.slice(20)), 20);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    port: (server.address() as net.AddressInfo).port,
    watches,
    dropClients: () => sockets.forEach((s) => s.destroy()),
    close: () => new Promise((resolve) => {
      sockets.forEach((s) => s.destroy());
      server.close(resolve);
    }),
  };
}

test('follows a gpsd stand-in, forgets a stale fix and reconnects after the link drops',
  { timeout: 15_000 }, async () => {
    const gpsd = await standInGpsd([TPV, { ...TPV, lat: 48.137154, lon: 11.576124 }]);
    const client = new GpsdClient({ host: '127.0.0.1', port: gpsd.port, maxAgeMs: 5000 });

    try {
      client.start();
      await waitUntil(() => client.current() !== undefined, 3000);
      assert.equal(client.current()?.lat, 52.520008);
      assert.deepEqual(gpsd.watches, ['?WATCH={"enable":true,"json":true}\n']);
      assert.equal(client.current(Date.now() + 6000), undefined, 'a 6 s old fix is stale');

      gpsd.dropClients();
      await waitUntil(() => client.current()?.lat === 48.137154, 5000);
    } finally {
      client.stop();
      await gpsd.close();
    }
  });
