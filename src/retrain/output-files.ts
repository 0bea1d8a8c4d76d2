import type { Report } from './metrics';
import { confusionSvg, lineChartSvg } from './svg-charts';
import type { EvalRow } from './train';

/**
 * The files written into the model directory beside the model itself: the training curve as
 * CSV and JSON lines, the curves and the test confusion matrix as SVG pictures.
 */
export const CURVE_COLUMNS: ReadonlyArray<keyof EvalRow> = [
  'step', 'train_accuracy', 'cross_entropy', 'validation_accuracy', 'validation_cross_entropy',
];

/** One row per evaluation, retrain.py's figures plus the validation cross entropy. */
export function curveCsv(rows: EvalRow[]): string {
  const lines = rows.map((row) => CURVE_COLUMNS.map((column) => row[column]).join(','));

  return `${[CURVE_COLUMNS.join(','), ...lines].join('\n')}\n`;
}

/** The same rows as JSON lines, for tools that read JSON more easily than CSV. */
export function curveJsonl(rows: EvalRow[]): string {
  return rows.map((row) => `${JSON.stringify(row)}\n`).join('');
}

function curveChart(rows: EvalRow[], kind: 'accuracy' | 'cross entropy'): string {
  const accuracy = kind === 'accuracy';
  const trainKey = accuracy ? 'train_accuracy' : 'cross_entropy';
  const validationKey = accuracy ? 'validation_accuracy' : 'validation_cross_entropy';

  return lineChartSvg({
    title: `${accuracy ? 'Accuracy' : 'Cross entropy'} during training`,
    xLabel: 'training step',
    yLabel: kind,
    yRange: accuracy ? [0, 1] : undefined,
    series: [
      { name: 'train batch', colour: '#d95f02', points: rows.map((r) => [r.step, r[trainKey]]) },
      { name: 'validation', colour: '#1b9e77',
        points: rows.map((r) => [r.step, r[validationKey]]) },
    ],
  });
}

/** File name -> content, for saveModelDir's extra files. */
export function reportFiles(rows: EvalRow[], report: Report, labels: string[]):
  Record<string, string> {
  return {
    'metrics.csv': curveCsv(rows),
    'metrics.jsonl': curveJsonl(rows),
    'accuracy.svg': curveChart(rows, 'accuracy'),
    'cross_entropy.svg': curveChart(rows, 'cross entropy'),
    'confusion_matrix.svg': confusionSvg(labels, report.confusion, 'Test set confusion matrix ' +
      `(N=${report.count}, accuracy ${(report.accuracy * 100).toFixed(1)}%)`),
  };
}
