/**
 * What a run prints last: each distinct skip reason and each distinct fault
 * that kept a target from being tested once, with the targets and properties it covers, and the final line with the verdict and a count
 * of every status, in the manner of `go test` and cargo nextest
 * ("FAIL: 3 failed, 120 passed, ... in 46.1 s (report reports/gate.json)"). Pure.
 */
import { resultStatuses, type ResultRow } from "./gate-report.ts";
import { brokenExitCode } from "./broken.ts";

/** How the final line names each status's count. */
const statusWords: Record<string, string> = { pass: "passed", fail: "failed", skip: "skipped" };

/**
 * "3 failed, 120 passed, 11 skipped, 4 known, 0 fixed, ...": every status the
 * report knows, then any other present; failures first, then `broken`, counted
 * only when some result is (a run that could test everything has nothing to
 * say of it).
 */
export function statusCounts(statuses: readonly string[]): string {
  const order = ["fail", "broken", ...resultStatuses.filter((status) => status !== "fail" && status !== "broken"), ...new Set(statuses.filter((status) => !(resultStatuses as readonly string[]).includes(status)))];
  const count = (status: string) => statuses.filter((s) => s === status).length;
  return order
    .filter((status) => status !== "broken" || count(status) > 0)
    .map((status) => `${count(status)} ${statusWords[status] ?? status}`)
    .join(", ");
}

/** A report's `verdict`: "pass", "broken" (exit 3: nothing failed, something could not be tested), else "fail". */
export function runVerdict(exitCode: number): "pass" | "broken" | "fail" {
  return exitCode === 0 ? "pass" : exitCode === brokenExitCode ? "broken" : "fail";
}

/**
 * The exit code of several runs together (a soak's seeds): 2 (bad input, a
 * malformed answer) wins, then 1 (a failure), then 3 (could not test), then 0.
 * Not the largest: 3 must not hide a 1.
 */
export function combinedExitCode(codes: readonly number[]): number {
  return [2, 1, brokenExitCode].find((code) => codes.includes(code)) ?? Math.max(0, ...codes);
}

export interface FinalLine {
  /** The results' statuses, one per target x property. */
  statuses: readonly string[];
  exitCode: number;
  /** The run's wall time, when known. */
  seconds?: number;
  report: string;
  /** Why the run failed when no result says so (a malformed answer, a fixed finding under --strict-known). */
  why?: string;
}

/** The word a final line starts with: "ok" for exit 0, "BROKEN" for exit 3, "FAIL" otherwise. */
export function verdictWord(exitCode: number): string {
  return { pass: "ok", broken: "BROKEN", fail: "FAIL" }[runVerdict(exitCode)];
}

export function finalLine(run: FinalLine): string {
  const verdict = verdictWord(run.exitCode);
  return `${verdict}: ${statusCounts(run.statuses)}${run.seconds !== undefined ? ` in ${run.seconds.toFixed(1)} s` : ""}${run.why ? `; ${run.why}` : ""} (report ${run.report})`;
}

/** The properties of a target, named as a list, or "all N properties" when the reason covers every one the run has. */
function coverage(results: readonly ResultRow[], skipped: readonly ResultRow[]): string {
  const properties = [...new Set(results.map((result) => result.property))];
  const targets = [...new Set(skipped.map((result) => result.target))];
  const byTarget = targets.map((target) => ({ target, properties: skipped.filter((result) => result.target === target).map((result) => result.property) }));
  const whole = byTarget.filter((entry) => entry.properties.length === properties.length).map((entry) => entry.target);
  const parts = byTarget.filter((entry) => entry.properties.length !== properties.length);
  // Targets sharing the same properties are listed together.
  const groups = new Map<string, string[]>();
  for (const entry of parts) groups.set(entry.properties.join(","), [...(groups.get(entry.properties.join(",")) ?? []), entry.target]);
  return [...(whole.length ? [`${whole.join(",")} (every property)`] : []), ...[...groups].map(([names, on]) => `${names} on ${on.join(",")}`)].join("; ");
}

/** "STATUS: REASON: WHAT" once per distinct reason of the results with that status, in the order the results first give it. */
function reasonLines(results: readonly ResultRow[], status: "skip" | "broken"): string[] {
  const matching = results.filter((result) => result.status === status);
  const reasons = [...new Set(matching.map((result) => result.reason))];
  return reasons.map((reason) => `${status}: ${reason || "(no reason given)"}: ${coverage(results, matching.filter((result) => result.reason === reason))}`);
}

/** "skip: REASON: WHAT" once per distinct reason, in the order the results first give it. */
export function skipLines(results: readonly ResultRow[]): string[] {
  return reasonLines(results, "skip");
}

/**
 * "broken: FAULT; REMEDY: WHAT" once per distinct fault: a full disk or a
 * read-only cache stops every target the same way, and is said once.
 */
export function brokenLines(results: readonly ResultRow[]): string[] {
  return reasonLines(results, "broken");
}
