import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { loadConfig, maskSecrets, type EdgePotholeConfig } from '../../src/config/load';
import { EdgePotholeError } from '../../src/util/errors';

let tmp: string;
let fileCount = 0;

const SOURCE_SPEC_PROBLEM = 'source.spec: must look like dir:PATH, image:FILE, file:VIDEO, ' +
  'webcam:/dev/videoN, v4l2:/dev/videoN, rtsp://... or http(s)://...: value was "ftp:x"';

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'edge-pothole-config-'));
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/**
 * A config file with `content`. Every test passes a file so that a real
 * /etc/edge-pothole/config.json on the machine cannot leak in.
 */
async function configFile(content: unknown): Promise<string> {
  fileCount += 1;
  const file = path.join(tmp, `config-${fileCount}.json`);
  await writeFile(file, JSON.stringify(content));

  return file;
}

function assertConfigInvalid(fn: () => unknown, message: string | RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof EdgePotholeError, `expected an EdgePotholeError, got ${String(err)}`);
    assert.equal(err.code, 'EP_CONFIG_INVALID');
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);

    return true;
  });
}

describe('loadConfig', () => {
  test('accepts the defaults as they are', async () => {
    const config = loadConfig({ file: await configFile({}), env: {} });

    assert.equal(config.threshold, 0.5);
    assert.equal(config.positive_label, 'pothole');
    assert.equal(config.source.spec, 'webcam:/dev/video0');
    assert.equal(config.mqtt.url, 'mqtt://127.0.0.1:1883');
    assert.equal(config.mqtt.topic_prefix, 'edge-pothole');
    assert.doesNotMatch(
      config.vehicle_id,
      /[+#/\s]/,
      'the host-name default is a valid topic level',
    );
    assert.ok(config.vehicle_id.length > 0);
  });

  test('lets the config file override defaults and keeps the defaults beside them', async () => {
    const file = await configFile({
      threshold: 0.7,
      vehicle_id: 'van-12',
      source: { spec: 'dir:/data/frames' },
    });

    const config = loadConfig({ file, env: {} });

    assert.equal(config.threshold, 0.7);
    assert.equal(config.vehicle_id, 'van-12');
    assert.equal(config.source.spec, 'dir:/data/frames');
    assert.equal(config.source.width, 1280, 'a sibling key keeps its default');
  });

  test('lets EDGE_POTHOLE_THRESHOLD override the config file', async () => {
    const file = await configFile({ threshold: 0.7 });

    const config = loadConfig({ file, env: { EDGE_POTHOLE_THRESHOLD: '0.8' } });

    assert.equal(config.threshold, 0.8);
  });

  test('lets flags override env vars and the file', async () => {
    const file = await configFile({ threshold: 0.7, mqtt: { topic_prefix: 'from-file' } });
    const env = { EDGE_POTHOLE_THRESHOLD: '0.8', EDGE_POTHOLE_TOPIC_PREFIX: 'from-env' };

    const config = loadConfig({
      file,
      env,
      flags: { threshold: '0.9', 'mqtt.topic_prefix': 'fleet/north' },
    });

    assert.equal(config.threshold, 0.9);
    assert.equal(config.mqtt.topic_prefix, 'fleet/north');
  });

  test('takes a boolean flag given as true', async () => {
    const config = loadConfig({
      file: await configFile({}),
      env: {},
      flags: { 'source.loop': true },
    });

    assert.equal(config.source.loop, true);
  });

  test('rejects an unknown key in the file, naming the key and the file', async () => {
    const file = await configFile({ thresold: 0.7 });

    assertConfigInvalid(
      () => loadConfig({ file, env: {} }),
      `invalid configuration (file ${file}):\n` +
        "configuration param 'thresold' not declared in the schema",
    );
  });

  test('rejects an unknown nested key with its full path', async () => {
    const file = await configFile({ mqtt: { passwd: 'x' } });

    assertConfigInvalid(
      () => loadConfig({ file, env: {} }),
      `invalid configuration (file ${file}):\n` +
        "configuration param 'mqtt.passwd' not declared in the schema",
    );
  });

  test('rejects threshold 1.5, naming the key and the value', async () => {
    const file = await configFile({ threshold: 1.5 });

    assertConfigInvalid(
      () => loadConfig({ file, env: {} }),
      `invalid configuration (file ${file}):\n` +
        'threshold: must be a number from 0 to 1: value was 1.5',
    );
  });

  test('rejects a vehicle_id with topic wildcards, naming the key and the value', async () => {
    const file = await configFile({ vehicle_id: 'a/+' });

    assertConfigInvalid(
      () => loadConfig({ file, env: {} }),
      `invalid configuration (file ${file}):\n` +
        'vehicle_id: must be a non-empty string without "+", "#" or "/": ' +
        'value was "a/+"',
    );
  });

  test('rejects a source of an unknown kind, naming the key and the value', async () => {
    const file = await configFile({ source: { spec: 'ftp:x' } });

    assertConfigInvalid(
      () => loadConfig({ file, env: {} }),
      `invalid configuration (file ${file}):\n` +
        SOURCE_SPEC_PROBLEM,
    );
  });

  test('reports every problem of the file at once', async () => {
    const file = await configFile({
      threshold: 1.5,
      vehicle_id: 'a/+',
      source: { spec: 'ftp:x' },
      bogus: 1,
    });

    assertConfigInvalid(
      () => loadConfig({ file, env: {} }),
      `invalid configuration (file ${file}):\n` +
        'vehicle_id: must be a non-empty string without "+", "#" or "/": ' +
        'value was "a/+"\n' +
        'threshold: must be a number from 0 to 1: value was 1.5\n' +
        `${SOURCE_SPEC_PROBLEM}\n` +
        "configuration param 'bogus' not declared in the schema",
    );
  });

  test('rejects an out-of-range flag, naming the key and the value', async () => {
    const file = await configFile({});

    assertConfigInvalid(
      () => loadConfig({ file, env: {}, flags: { threshold: '1.5' } }),
      `invalid configuration (file ${file}):\n` +
        'threshold: must be a number from 0 to 1: value was 1.5',
    );
  });

  test(
    'rejects a non-numeric EDGE_POTHOLE_THRESHOLD, naming the key and the value given',
    {},
    async () => {
      const file = await configFile({});

      assertConfigInvalid(
        () => loadConfig({ file, env: { EDGE_POTHOLE_THRESHOLD: 'abc' } }),
        /threshold: must be a number from 0 to 1: value was "?abc"?/,
      );
    },
  );

  test(
    'rejects a threshold with trailing garbage instead of reading its leading number',
    {},
    async () => {
      const file = await configFile({});

      assertConfigInvalid(
        () => loadConfig({ file, env: { EDGE_POTHOLE_THRESHOLD: '0.7x' } }),
        /threshold: must be a number from 0 to 1: value was "0\.7x"/,
      );
    },
  );

  test('reads 0, no and off in a boolean env var as false, not as true', async () => {
    const file = await configFile({});

    for (const word of ['0', 'no', 'off', 'false']) {
      const config = loadConfig({ file, env: { EDGE_POTHOLE_SOURCE_LOOP: word } });
      assert.equal(config.source.loop, false, word);
    }
    assert.equal(loadConfig({ file, env: { EDGE_POTHOLE_SOURCE_LOOP: 'yes' } }).source.loop, true);
  });

  test('rejects a boolean env var that is not a yes or a no, naming the key and value',
    async () => {
    const file = await configFile({});

    assertConfigInvalid(
      () => loadConfig({ file, env: { EDGE_POTHOLE_SOURCE_LOOP: 'maybe' } }),
      /source\.loop: must be true or false \(also 1\/0, yes\/no, on\/off\): value was "maybe"/,
    );
  });

  test('names an empty value itself, which convict leaves out of its messages', async () => {
    const file = await configFile({ vehicle_id: '' });

    assertConfigInvalid(
      () => loadConfig({ file }),
      /vehicle_id: must be a non-empty string without "\+", "#" or "\/": value was ""/,
    );
  });

  test('rejects a misspelt EDGE_POTHOLE_ variable instead of ignoring it', async () => {
    const file = await configFile({});

    assertConfigInvalid(
      () => loadConfig({ file, env: { EDGE_POTHOLE_TRESHOLD: '0.9' } }),
      'invalid configuration: unknown environment variable EDGE_POTHOLE_TRESHOLD; ' +
        'docs/daemon.md lists every EDGE_POTHOLE_* variable',
    );
  });

  test('rejects an env var that is set but empty, naming the variable', async () => {
    const file = await configFile({});

    assertConfigInvalid(
      () => loadConfig({ file, env: { EDGE_POTHOLE_THRESHOLD: '' } }),
      'invalid configuration: environment variable EDGE_POTHOLE_THRESHOLD is set but empty; ' +
        'unset it or give it a value',
    );
  });

  test('rejects a config file that does not exist, naming it', () => {
    const file = path.join(tmp, 'missing.json');

    assertConfigInvalid(
      () => loadConfig({ file, env: {} }),
      `config file ${file} does not exist; fix --config`,
    );
  });

  test('rejects a config file that is not JSON, naming it', async () => {
    const file = path.join(tmp, 'broken.json');
    await writeFile(file, '{ "threshold": ');

    assertConfigInvalid(
      () => loadConfig({ file, env: {} }),
      new RegExp(`^config file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} cannot be read: .+`),
    );
  });

  test('returns a deeply frozen object', async () => {
    const config = loadConfig({ file: await configFile({}), env: {} });

    assert.ok(
      Object.isFrozen(config) && Object.isFrozen(config.mqtt) && Object.isFrozen(config.source),
    );
    assert.throws(() => {
      (config as EdgePotholeConfig).threshold = 0.1;
    }, TypeError);
    assert.throws(() => {
      (config.mqtt as EdgePotholeConfig['mqtt']).url = 'mqtt://evil';
    }, TypeError);
  });
});

describe('maskSecrets', () => {
  test('hides a password written into the broker URL', async () => {
    const config = loadConfig({
      file: await configFile({ mqtt: { url: 'mqtt://fleet:s3cret@127.0.0.1:8883' } }),
      env: {},
    });

    assert.equal(maskSecrets(config).mqtt.url, 'mqtt://fleet:********@127.0.0.1:8883');
  });

  test('hides the broker password and leaves everything else and the original alone', async () => {
    const config = loadConfig({
      file: await configFile({}),
      env: { EDGE_POTHOLE_MQTT_PASSWORD: 's3cret' },
    });

    const masked = maskSecrets(config);

    assert.equal(masked.mqtt.password, '********');
    assert.ok(!JSON.stringify(masked).includes('s3cret'));
    assert.equal(config.mqtt.password, 's3cret');
    assert.deepEqual({ ...masked, mqtt: { ...masked.mqtt, password: 's3cret' } }, config);
  });

  test('leaves an empty password empty, so "anonymous" stays visible', async () => {
    const config = loadConfig({ file: await configFile({}), env: {} });

    assert.equal(maskSecrets(config).mqtt.password, '');
  });
});
