/**
 * What a run prints last: each distinct skip reason once, with the targets
 * and properties it covers, and the final line with the verdict and a count
 * of every status, in the manner of `go test` and cargo nextest
 * ("FAIL: 3 failed, 120 passed, ... in 46.1 s (report reports/gate.json)"). Pure.
 */
import { resultStatuses, type ResultRow } from "./gate-report.ts";

/** How the final line names each status's count. */
const statusWords: Record<string, string> = { pass: "passed", fail: "failed", skip: "skipped" };

/** "3 failed, 120 passed, 11 skipped, 4 known, 0 fixed, ...": every status the report knows, then any other present; failures first. */
export function statusCounts(statuses: readonly string[]): string {
  const order = ["fail", ...resultStatuses.filter((status) => status !== "fail"), ...new Set(statuses.filter((status) => !(resultStatuses as readonly string[]).includes(status)))];
  return order.map((status) => `${statuses.filter((s) => s === status).length} ${statusWords[status] ?? status}`).join(", ");
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

/** "ok: ..." for exit 0, "FAIL: ..." otherwise. */
export function finalLine(run: FinalLine): string {
  const verdict = run.exitCode === 0 ? "ok" : "FAIL";
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

/** "skip: REASON: WHAT" once per distinct reason, in the order the results first give it. */
export function skipLines(results: readonly ResultRow[]): string[] {
  const skipped = results.filter((result) => result.status === "skip");
  const reasons = [...new Set(skipped.map((result) => result.reason))];
  return reasons.map((reason) => `skip: ${reason || "(no reason given)"}: ${coverage(results, skipped.filter((result) => result.reason === reason))}`);
}
