/**
 * A gate report's failures as GitHub Actions `::error` workflow commands, one
 * annotation each, so a failing job says on its summary page which target and
 * property failed and how to replay it. Pure: ci/annotate.ts reads the report
 * and prints the lines.
 *
 * What fails a run gets an annotation: a property's failure (reason,
 * counterexample, replay command), a target that did not start or could not
 * be tested for a fault of the machine (`broken`; one for the target, not one
 * per property), a target a malformed answer stopped, and a
 * fixed known finding under --strict-known.
 */
import type { GateReport, ReportResult } from "./gate-report.ts";

/**
 * The gate's reason for each property of a target that did not start
 * (harness/run/run-target.ts): such a result has no case, so no counterexample.
 */
const notStartedPrefix = "target did not start: ";

/** A workflow command's message: `%`, CR and LF are escaped (GitHub's toolkit escapeData). */
export function escapeCommandData(text: string): string {
  return text.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

/** A workflow command's property value: as the message, and `:` and `,`, which end a value (GitHub's toolkit escapeProperty). */
export function escapeCommandProperty(text: string): string {
  return escapeCommandData(text).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

export interface Annotation {
  title: string;
  message: string;
}

/** One `::error title=...::message` line. */
export function errorCommand(annotation: Annotation): string {
  return `::error title=${escapeCommandProperty(annotation.title)}::${escapeCommandData(annotation.message)}`;
}

function notStarted(result: ReportResult): boolean {
  return result.status === "fail" && result.counterexample === null && result.reason.startsWith(notStartedPrefix);
}

function failureMessage(result: ReportResult): string {
  return [
    result.reason,
    ...(result.counterexample === null ? [] : [`counterexample: ${result.counterexample}`]),
    ...(result.replay === null ? [] : [`replay: ${result.replay}`]),
  ].join("\n");
}

/** The annotations for what failed the run, in the report's order. */
export function failureAnnotations(report: Pick<GateReport, "results" | "malformed" | "strictKnown">): Annotation[] {
  const annotations: Annotation[] = [];
  const announcedTargets = new Set<string>();
  for (const result of report.results) {
    if (notStarted(result)) {
      if (announcedTargets.has(result.target)) continue;
      announcedTargets.add(result.target);
      annotations.push({ title: `vforkcheck ${result.target} did not start`, message: result.reason.slice(notStartedPrefix.length) });
    } else if (result.status === "broken") {
      // A fault stops a target as a whole: one annotation for the target, not one per property.
      if (announcedTargets.has(result.target)) continue;
      announcedTargets.add(result.target);
      annotations.push({ title: `vforkcheck ${result.target} could not be tested (broken)`, message: result.reason });
    } else if (result.status === "fail") {
      annotations.push({ title: `vforkcheck ${result.target} ${result.property}`, message: failureMessage(result) });
    } else if (result.status === "fixed" && report.strictKnown) {
      annotations.push({ title: `vforkcheck ${result.target} ${result.property}: fixed`, message: `${result.reason} (a fixed known finding fails the run under --strict-known)` });
    }
  }
  for (const stopped of report.malformed)
    annotations.push({ title: `vforkcheck ${stopped.target}: malformed answer`, message: `the implementation's answer broke the protocol, so the gate stopped: ${stopped.message}` });
  return annotations;
}
