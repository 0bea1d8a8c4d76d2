import type { Dataset } from './dataset';
import { formatReport, type Report } from './metrics';
import type { RetrainOptions } from './retrain-options';

/** The test report, the misclassified photos when asked, and retrain.py's last line. */
export function printReport(report: Report, dataset: Dataset, unreadable: number,
  options: RetrainOptions): void {
  const out = options.out ?? process.stdout;
  out.write(`${formatReport(report, dataset.labels, 'test set')}\n`);
  if (options.printMisclassified) {
    out.write('\nmisclassified test images:\n');
    for (const m of report.misclassified) out.write(`  ${m.file}  ${m.label} -> ${m.predicted}\n`);
  }
  const notImages = dataset.notImages.length;
  if (unreadable + notImages > 0) {
    out.write(`\n${unreadable + notImages} file(s) skipped: ${unreadable} unreadable image(s), ` +
      `${notImages} not image(s) (each named in a warning)\n`);
  }
  out.write(`\nFinal test accuracy = ${(report.accuracy * 100).toFixed(1)}% (N=${report.count})\n`);
}
