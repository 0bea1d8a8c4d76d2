import assert from 'node:assert/strict';
import { test } from 'node:test';

import sharp from 'sharp';

import { confusionSvg, escapeXml, lineChartSvg, niceStep } from '../../src/retrain/svg-charts';

const CHART = {
  title: 'Accuracy during training',
  xLabel: 'training step',
  yLabel: 'accuracy',
  yRange: [0, 1] as [number, number],
  series: [
    { name: 'train batch', colour: '#d95f02', points: [[10, 0.5], [20, 0.75], [30, 0.9]] },
    { name: 'validation', colour: '#1b9e77', points: [[10, 0.4], [20, 0.7], [30, NaN]] },
  ] as Array<{ name: string; colour: string; points: Array<[number, number]> }>,
};

function polylines(svg: string): string[][] {
  return [...svg.matchAll(/<polyline [^>]*points="([^"]*)"/g)].map((m) => m[1].split(' '));
}

test('draws one polyline per series, skipping values that are not numbers', () => {
  const svg = lineChartSvg(CHART);

  const lines = polylines(svg);
  assert.equal(lines.length, 2);
  assert.equal(lines[0].length, 3);
  assert.equal(lines[1].length, 2);
  assert.match(svg, /train batch/);
  assert.match(svg, /validation/);
});

test('puts higher values higher on the picture (smaller y) and later steps to the right', () => {
  const [train] = polylines(lineChartSvg(CHART));
  const points = train.map((p) => p.split(',').map(Number));

  assert.ok(points[0][0] < points[1][0] && points[1][0] < points[2][0]);
  assert.ok(points[0][1] > points[1][1] && points[1][1] > points[2][1]);
});

test('labels the y axis with round ticks above the largest value', () => {
  const svg = lineChartSvg({ ...CHART, yRange: undefined,
    series: [{ name: 'loss', colour: '#000', points: [[1, 0.69], [2, 0.3]] }] });

  const ticks = [...svg.matchAll(/text-anchor="end">([\d.]+)</g)].map((m) => m[1]);
  assert.deepEqual(ticks, ['0.0', '0.2', '0.4', '0.6', '0.8']);
  assert.equal(niceStep(0.69), 0.2);
  assert.equal(niceStep(4000), 1000);
  assert.equal(niceStep(1), 0.2);
});

test('escapes label text, so a folder named "<a & b>" keeps the SVG well formed', async () => {
  assert.equal(escapeXml('<a & "b">'), '&lt;a &amp; &quot;b&quot;&gt;');

  const svg = confusionSvg(['<a & b>', 'pothole'], [[3, 1], [0, 4]], 'test');

  assert.ok(!svg.includes('<a & b>'));
  const png = await sharp(Buffer.from(svg)).png().toBuffer();
  assert.ok(png.length > 0, 'librsvg renders it');
});

test('writes every count of the confusion matrix in its cell, darkest for the largest', () => {
  const svg = confusionSvg(['normal', 'pothole'], [[48, 2], [3, 31]], 'Test set');

  const counts = [...svg.matchAll(/font-size="14" fill="[^"]+">(\d+)</g)].map((m) => Number(m[1]));
  assert.deepEqual(counts, [48, 2, 3, 31]);
  const cells = /<rect x="[\d.]+" y="[\d.]+" width="64" height="64" fill="([^"]+)"/g;
  const fills = [...svg.matchAll(cells)].map((m) => m[1]);
  assert.equal(fills[0], 'rgb(55,105,255)');
  assert.equal(fills.length, 4);
});

test('renders the line chart to a picture of the declared size', async () => {
  const meta = await sharp(Buffer.from(lineChartSvg(CHART))).metadata();

  assert.deepEqual([meta.width, meta.height], [640, 400]);
});
