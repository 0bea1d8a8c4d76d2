/**
 * Two small SVG pictures written next to the model: a line chart (the training curves) and a
 * confusion matrix. SVG is text, opens in any browser and needs no image library; these
 * generators are pure functions of their data, so they are tested on their output.
 */

export interface Series {
  name: string;
  /** CSS colour of the line and its legend entry. */
  colour: string;
  points: Array<[number, number]>;
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Fixed y range, e.g. [0, 1] for accuracy; default: from the data. */
  yRange?: [number, number];
}

const WIDTH = 640;
const HEIGHT = 400;
const MARGIN = { left: 64, right: 16, top: 40, bottom: 48 };
const TICKS = 5;

/** Text for SVG: labels are folder names and may hold &, < or quotes. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** Shortest decimal that tells the ticks apart. */
function tickText(value: number, step: number): string {
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));

  return value.toFixed(decimals);
}

/** A round tick step (1, 2 or 5 times a power of ten) giving about TICKS ticks over `span`. */
export function niceStep(span: number): number {
  const raw = span / TICKS;
  const power = 10 ** Math.floor(Math.log10(raw));

  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= raw - 1e-12) ?? 10 * power;
}

/** Axis ranges: x from 0, y as given or from 0 up to a round value above the data. */
function rangeOf(chart: LineChart): { x: [number, number]; y: [number, number]; yStep: number } {
  const points = chart.series.flatMap((s) => s.points);
  const xs = points.map(([x]) => x);
  const ys = points.map(([, y]) => y).filter(Number.isFinite);
  const x: [number, number] = [Math.min(0, ...xs), Math.max(1, ...xs)];
  if (chart.yRange) {
    return { x, y: chart.yRange, yStep: niceStep(chart.yRange[1] - chart.yRange[0]) };
  }

  const low = Math.min(0, ...ys);
  const span = Math.max(1e-6, ...ys) - low;
  const yStep = niceStep(span);

  return { x, y: [low, low + Math.ceil(span / yStep - 1e-9) * yStep], yStep };
}

function axes(chart: LineChart, x: [number, number], y: [number, number], yStep: number):
  string[] {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const parts = [
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" ` +
      'fill="none" stroke="#888"/>',
  ];

  for (let yValue = y[0]; yValue <= y[1] + yStep / 1e6; yValue += yStep) {
    const py = (MARGIN.top + plotH - (plotH * (yValue - y[0])) / (y[1] - y[0] || 1)).toFixed(1);
    parts.push(`<line x1="${MARGIN.left}" y1="${py}" x2="${MARGIN.left + plotW}" y2="${py}" ` +
      'stroke="#ddd"/>');
    parts.push(`<text x="${MARGIN.left - 6}" y="${Number(py) + 4}" text-anchor="end">` +
      `${tickText(yValue, yStep)}</text>`);
  }
  for (let i = 0; i <= TICKS; i++) {
    const px = MARGIN.left + (plotW * i) / TICKS;
    parts.push(`<text x="${px}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">` +
      `${Math.round(x[0] + ((x[1] - x[0]) * i) / TICKS)}</text>`);
  }
  parts.push(`<text x="${WIDTH / 2}" y="${HEIGHT - 8}" text-anchor="middle">` +
    `${escapeXml(chart.xLabel)}</text>`);
  parts.push(`<text x="16" y="${HEIGHT / 2}" text-anchor="middle" ` +
    `transform="rotate(-90 16 ${HEIGHT / 2})">${escapeXml(chart.yLabel)}</text>`);

  return parts;
}

/** A line chart of every series over a shared x axis, with a legend. */
export function lineChartSvg(chart: LineChart): string {
  const { x, y, yStep } = rangeOf(chart);
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const px = (v: number) => MARGIN.left + (plotW * (v - x[0])) / (x[1] - x[0] || 1);
  const py = (v: number) => MARGIN.top + plotH - (plotH * (v - y[0])) / (y[1] - y[0] || 1);

  const lines = chart.series.map((s, i) => {
    const path = s.points.filter(([, v]) => Number.isFinite(v))
      .map(([a, b]) => `${px(a).toFixed(1)},${py(b).toFixed(1)}`).join(' ');
    // The legend sits in the top margin, right-aligned: inside the plot it hides the curves.
    const legendX = WIDTH - MARGIN.right - 110 * (chart.series.length - i);

    return `<polyline fill="none" stroke="${s.colour}" stroke-width="1.5" points="${path}"/>` +
      `<rect x="${legendX}" y="${MARGIN.top - 14}" width="14" height="3" fill="${s.colour}"/>` +
      `<text x="${legendX + 18}" y="${MARGIN.top - 9}">${escapeXml(s.name)}</text>`;
  });

  return document([
    `<text x="${MARGIN.left}" y="20" font-size="15">${escapeXml(chart.title)}</text>`,
    ...axes(chart, x, y, yStep),
    ...lines,
  ], WIDTH, HEIGHT);
}

function document(parts: string[], width: number, height: number): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
      `viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

/** The confusion matrix as a grid, rows = true label, columns = predicted; darker = more. */
export function confusionSvg(labels: string[], confusion: number[][], title: string): string {
  const cell = 64;
  const labelWidth = Math.max(80, ...labels.map((l) => l.length * 7 + 16));
  const left = labelWidth + 24;
  const top = 80;
  const width = Math.max(left + cell * labels.length + 16, title.length * 8 + 24);
  const height = top + cell * labels.length + 16;
  const max = Math.max(1, ...confusion.flat());
  const parts = [
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`,
    `<text x="${left + (cell * labels.length) / 2}" y="44" text-anchor="middle">predicted</text>`,
    `<text x="12" y="${top + (cell * labels.length) / 2}" text-anchor="middle" ` +
      `transform="rotate(-90 12 ${top + (cell * labels.length) / 2})">true</text>`,
  ];

  labels.forEach((label, i) => {
    parts.push(`<text x="${left + cell * i + cell / 2}" y="${top - 8}" text-anchor="middle">` +
      `${escapeXml(label)}</text>`);
    parts.push(`<text x="${left - 8}" y="${top + cell * i + cell / 2 + 4}" text-anchor="end">` +
      `${escapeXml(label)}</text>`);
    confusion[i].forEach((count, j) => {
      const shade = count / max;
      const fill = `rgb(${Math.round(255 - 200 * shade)},${Math.round(255 - 150 * shade)},255)`;
      const ink = shade > 0.6 ? '#fff' : '#000';
      parts.push(`<rect x="${left + cell * j}" y="${top + cell * i}" width="${cell}" ` +
        `height="${cell}" fill="${fill}" stroke="#888"/>`);
      parts.push(`<text x="${left + cell * j + cell / 2}" y="${top + cell * i + cell / 2 + 5}" ` +
        `text-anchor="middle" font-size="14" fill="${ink}">${count}</text>`);
    });
  });

  return document(parts, width, height);
}
