/**
 * action.yml's annotate step: one GitHub `::error` annotation per failure of a
 * gate report (src/annotations.ts), printed on stdout where the runner reads
 * workflow commands. It runs after the gate, also when the gate failed.
 *
 *   node --import=tsx ci/annotate.ts REPORT
 *
 * No report (the gate stopped before its results, e.g. on bad input): one
 * line on stderr and exit 0, since the gate's step has failed already and its
 * log says why. An unreadable report: one line, exit 2.
 */
import { existsSync, readFileSync } from "node:fs";
import { isMainModule } from "../harness/process/main-module.ts";
import { errorCommand, failureAnnotations } from "../src/annotations.ts";
import { GateReportError, parseGateReport } from "../src/gate-report.ts";

/** The annotate step's stdout (workflow commands), stderr and exit status for these arguments. */
export function annotate(args: readonly string[]): { stdout: string; stderr: string; status: number } {
  if (args.length !== 1) return { stdout: "", stderr: "usage: node --import=tsx ci/annotate.ts REPORT (a vforkcheck gate report)\n", status: 2 };
  const path = args[0]!;
  if (!existsSync(path)) return { stdout: "", stderr: `ci/annotate.ts: no report at ${path}: the gate stopped before its results (its step's log says why)\n`, status: 0 };
  try {
    const annotations = failureAnnotations(parseGateReport(readFileSync(path, "utf8"), path));
    return { stdout: annotations.map((annotation) => `${errorCommand(annotation)}\n`).join(""), stderr: "", status: 0 };
  } catch (error) {
    if (error instanceof GateReportError) return { stdout: "", stderr: `ci/annotate.ts: ${error.message}\n`, status: 2 };
    throw error;
  }
}

if (isMainModule(import.meta.url)) {
  const { stdout, stderr, status } = annotate(process.argv.slice(2));
  process.stdout.write(stdout);
  process.stderr.write(stderr);
  process.exitCode = status;
}
