/**
 * Classification metrics as pure functions of (true label, scores) pairs: the test report of
 * retrain and evaluate, tested without any model.
 */
export interface Prediction {
  trueIndex: number;
  scores: ArrayLike<number>;
  /** Source group, for the per-group report. */
  group?: string;
  file?: string;
}

export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  support: number;
}

export interface ThresholdRow {
  threshold: number;
  precision: number;
  recall: number;
  /** How many images were called positive at this threshold. */
  predicted: number;
}

export interface GroupRow {
  group: string;
  /** True class of the group's images: `pothole/rf-` and `normal/rf-` are separate rows. */
  label: string;
  count: number;
  accuracy: number;
}

export interface Report {
  count: number;
  accuracy: number;
  /** confusion[true][predicted]. */
  confusion: number[][];
  perClass: ClassMetrics[];
  thresholds?: { label: string; rows: ThresholdRow[] };
  perGroup: GroupRow[];
  misclassified: Array<{ file?: string; label: string; predicted: string; confidence: number }>;
}

export function argmax(scores: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i;

  return best;
}

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);

export function confusionMatrix(predictions: Prediction[], classes: number): number[][] {
  const matrix = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (const p of predictions) matrix[p.trueIndex][argmax(p.scores)] += 1;

  return matrix;
}

/** Precision and recall of "score of `positive` >= threshold", to pick the daemon's threshold. */
export function thresholdTable(
  predictions: Prediction[],
  positive: number,
  thresholds: number[],
): ThresholdRow[] {
  return thresholds.map((threshold) => {
    let truePositive = 0;
    let predicted = 0;
    let actual = 0;
    for (const p of predictions) {
      const called = p.scores[positive] >= threshold;
      const isPositive = p.trueIndex === positive;
      if (called) predicted += 1;
      if (isPositive) actual += 1;
      if (called && isPositive) truePositive += 1;
    }

    return {
      threshold,
      precision: ratio(truePositive, predicted),
      recall: ratio(truePositive, actual),
      predicted,
    };
  });
}

function groupRows(predictions: Prediction[], labels: string[]): GroupRow[] {
  type Tally = { label: string; group: string; count: number; correct: number };
  const groups = new Map<string, Tally>();
  for (const p of predictions) {
    const key = `${labels[p.trueIndex]}\u0000${p.group ?? 'other'}`;
    const row = groups.get(key) ??
      { label: labels[p.trueIndex], group: p.group ?? 'other', count: 0, correct: 0 };
    row.count += 1;
    if (argmax(p.scores) === p.trueIndex) row.correct += 1;
    groups.set(key, row);
  }

  return [...groups.values()]
    .sort((a, b) => (a.label + a.group < b.label + b.group ? -1 : 1))
    .map(({ group, label, count, correct }) =>
      ({ group, label, count, accuracy: ratio(correct, count) }));
}

/** The whole report; `positiveLabel` (e.g. "pothole") adds the threshold table when present. */
export function buildReport(
  predictions: Prediction[],
  labels: string[],
  positiveLabel = 'pothole',
  thresholds = [0.3, 0.5, 0.7, 0.8, 0.9, 0.95],
): Report {
  const confusion = confusionMatrix(predictions, labels.length);
  const correct = confusion.reduce((sum, row, i) => sum + row[i], 0);
  const perClass = labels.map((label, i) => ({
    label,
    precision: ratio(confusion[i][i], confusion.reduce((sum, row) => sum + row[i], 0)),
    recall: ratio(confusion[i][i], confusion[i].reduce((a, b) => a + b, 0)),
    support: confusion[i].reduce((a, b) => a + b, 0),
  }));
  const positive = labels.indexOf(positiveLabel);

  return {
    count: predictions.length,
    accuracy: ratio(correct, predictions.length),
    confusion,
    perClass,
    thresholds: positive >= 0
      ? { label: positiveLabel, rows: thresholdTable(predictions, positive, thresholds) }
      : undefined,
    perGroup: groupRows(predictions, labels),
    misclassified: predictions.filter((p) => argmax(p.scores) !== p.trueIndex).map((p) => ({
      file: p.file,
      label: labels[p.trueIndex],
      predicted: labels[argmax(p.scores)],
      confidence: p.scores[argmax(p.scores)],
    })),
  };
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

/** The report as the text retrain and evaluate print. */
export function formatReport(report: Report, labels: string[], title: string): string {
  const width = Math.max(10, ...labels.map((l) => l.length + 2));
  const lines = [`${title}: accuracy ${pct(report.accuracy)} (N=${report.count})`, '',
    'per class:'];
  for (const c of report.perClass) {
    lines.push(`  ${c.label.padEnd(width)} precision ${pct(c.precision).padStart(6)}  ` +
      `recall ${pct(c.recall).padStart(6)}  N=${c.support}`);
  }
  lines.push('', `confusion matrix (rows = true, columns = predicted):`);
  lines.push(`  ${''.padEnd(width)}${labels.map((l) => l.padStart(width)).join('')}`);
  report.confusion.forEach((row, i) => {
    lines.push(`  ${labels[i].padEnd(width)}${row.map((v) => String(v).padStart(width)).join('')}`);
  });
  lines.push('', 'per source group:');
  for (const g of report.perGroup) {
    const name = `${g.label}/${g.group}`.padEnd(width + 8);
    lines.push(`  ${name} accuracy ${pct(g.accuracy).padStart(6)}  N=${g.count}`);
  }
  if (report.thresholds) {
    lines.push('', `${report.thresholds.label} at thresholds (pick the daemon's threshold):`);
    for (const t of report.thresholds.rows) {
      lines.push(`  >= ${t.threshold.toFixed(2)}  precision ${pct(t.precision).padStart(6)}  ` +
        `recall ${pct(t.recall).padStart(6)}  called ${t.predicted}`);
    }
  }

  return lines.join('\n');
}
