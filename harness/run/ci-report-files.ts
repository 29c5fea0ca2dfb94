/**
 * The CI formats of a run as files: --junit, --tap and --summary, written
 * from the same results as the JSON report (gate and report merge).
 */
import { resolve } from "node:path";
import { junitReport } from "../../src/junit-report.ts";
import { markdownSummary } from "../../src/markdown-summary.ts";
import type { RunResults } from "../../src/result-table.ts";
import { tapReport } from "../../src/tap-report.ts";
import { prepareReportFile, writeReportFile } from "./report-output.ts";

export interface CiReportFiles {
  junit?: string;
  tap?: string;
  summary?: string;
}

const formats = { junit: junitReport, tap: tapReport, summary: markdownSummary } as const;

const asked = (files: CiReportFiles) => (Object.keys(formats) as (keyof typeof formats)[]).filter((format) => files[format] !== undefined).map((format) => ({ format, file: files[format]! }));

/**
 * Before a run: no two outputs (the JSON report, `report` as its option
 * names it, and each format) are one file, said before any is created;
 * then each format's file can be written (its directory made). The first
 * that cannot, as a one-line error.
 */
export function prepareCiReportFiles(files: CiReportFiles, report: { option: string; file: string }): string | undefined {
  const outputs = [report, ...asked(files).map(({ format, file }) => ({ option: `--${format}`, file }))];
  for (const [index, output] of outputs.entries()) {
    const earlier = outputs.slice(0, index).find((other) => resolve(other.file) === resolve(output.file));
    if (earlier) return `${output.option}: ${output.file} is also ${earlier.option}'s file (each output needs its own)`;
  }
  for (const { format, file } of asked(files)) {
    const unwritable = prepareReportFile(file, `--${format}`);
    if (unwritable) return unwritable;
  }
  return undefined;
}

/** Each asked format's file, written whole or not at all (an earlier file stays until then). */
export function writeCiReportFiles(files: CiReportFiles, run: RunResults): void {
  for (const { format, file } of asked(files)) writeReportFile(file, formats[format](run));
}
