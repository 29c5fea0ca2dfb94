/**
 * The target x property table and the known-findings table of a run, as
 * cells: the terminal table (gate, report merge) and the Markdown summary
 * both lay out these cells. Pure.
 */
import type { ReportFindingOutcome, ReportReplacement, ResultRow, ResultStatus } from "./gate-report.ts";
import { wrapWords } from "./option-table.ts";
import { baselineNote } from "./baseline.ts";

export type { ResultRow };

/** One known finding on one target and property: a row of the findings table and of the report's knownFindings. */
export type KnownFindingRow = ReportFindingOutcome & { target: string; property: string };

export function knownFindingRows<Outcome extends ReportFindingOutcome>(results: readonly { target: string; property: string; known?: readonly Outcome[] }[]): (Outcome & { target: string; property: string })[] {
  return results.flatMap((result) => (result.known ?? []).map((outcome) => ({ target: result.target, property: result.property, ...outcome })));
}

/** The properties in the order the results first name them (each target runs them in the gate's order). */
export function propertyNames(results: readonly ResultRow[]): string[] {
  return [...new Set(results.map((result) => result.property))];
}

/** Header then one row per target: its implementation and each property's status ("-": not run there). */
export function resultCells(results: readonly ResultRow[], properties: readonly string[] = propertyNames(results)): string[][] {
  const targets = [...new Set(results.map((result) => result.target))];
  const status = (target: string, property: string) => results.find((result) => result.target === target && result.property === property)?.status ?? "-";
  return [["target", "impl", ...properties], ...targets.map((target) => [target, results.find((result) => result.target === target)!.impl, ...properties.map((property) => status(target, property))])];
}

/** The matched column: how the finding came to apply (its version glob, or its reproducer on a version it does not name). */
export function knownFindingCells(rows: readonly KnownFindingRow[]): string[][] {
  return [["finding", "target", "property", "status", "matched", "cases", "reproducer"], ...rows.map((row) => [row.finding, row.target, row.property, row.status, row.matched ?? "version", String(row.cases), row.reproducer])];
}

/** Rows of cells as columns padded to their widest cell, `gap` spaces apart (the first column always two). */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], gap = 2): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (row: readonly string[]) => row.map((cell, i) => (i === 0 ? "" : i === 1 ? "  " : " ".repeat(gap)) + cell.padEnd(widths[i]!)).join("").trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

const textTable = ([header, ...rows]: string[][]) => formatTable(header!, rows);

/** The replacements of the targets the results name, each as a line: which target runs in place of which, and why. */
export function replacementNotes(results: readonly ResultRow[], replaced: readonly ReportReplacement[]): string[] {
  return replaced.filter((entry) => results.some((result) => result.target === entry.target)).map((entry) => `${entry.target} runs in place of ${entry.inPlaceOf}: ${entry.reason}`);
}

/**
 * The terminal table's heading of each property: at most 8 characters, the
 * width of the widest status ("baseline"), so that ten properties and the
 * longest planned target name fit 120 columns (one space apart); the legend under the table
 * names each in full. A property not listed here gets its words' first letters.
 */
const propertyHeadings: Record<string, string> = {
  "concurrent-spawns": "concur",
  "descriptor-table": "fds",
  environment: "env",
  "errno-propagates": "errno",
  "namespace-fallback": "ns-fall",
  "parent-resumes": "resumes",
  "signal-state": "sigstate",
  "signal-storm": "sigstorm",
  "interrupted-wait": "eintr",
};

export function propertyHeading(property: string): string {
  return propertyHeadings[property] ?? (property.length <= 8 ? property : property.split("-").map((word) => word.slice(0, 3)).join("-").slice(0, 8));
}

/** A target name cut to width in its middle ("amd64/host/go@…/src/go"), for an implementation labelled by a long path. */
export function elideMiddle(text: string, width: number): string {
  if (text.length <= width) return text;
  const head = Math.ceil((width - 1) / 2);
  return `${text.slice(0, head)}…${text.slice(text.length - (width - 1 - head))}`;
}

/**
 * The table within `width` columns (a terminal's 120): one row per target
 * (its name carries its implementation, none for the reference), a short
 * heading per property, then the legend, a line for each target name cut to
 * fit, and one for each target that runs in place of one this machine cannot have.
 */
export function formatResultTable(results: readonly ResultRow[], properties?: readonly string[], replaced: readonly ReportReplacement[] = [], width = 120): string {
  const [header, ...rows] = resultCells(results, properties);
  const names = header!.slice(2);
  const headings = names.map(propertyHeading);
  const columns = (gap: number) => headings.reduce((sum, heading, i) => sum + gap + Math.max(heading.length, ...rows.map((row) => row[i + 2]!.length)), 2 - gap);
  const longestTarget = Math.max(0, ...rows.map((row) => row[0]!.length));
  // The property columns one space apart when two would cut a target's name (ten properties and more).
  const gap = longestTarget + columns(2) > width ? 1 : 2;
  const room = Math.max(20, width - columns(gap));
  const cut = rows.filter((row) => row[0]!.length > room).map((row) => `${elideMiddle(row[0]!, room)}: ${row[0]}`);
  const table = formatTable(["target", ...headings], rows.map((row) => [elideMiddle(row[0]!, room), ...row.slice(2)]), gap);
  const abbreviated = names.filter((name, i) => headings[i] !== name).map((name) => `${propertyHeading(name)} ${name}`);
  const mixed = rows.some((row) => row[1] === "reference") && rows.some((row) => row[1] !== "reference");
  // Wrapped between entries, never inside one ("ns-fall namespace-fallback" stays on one line).
  const entries = [...abbreviated.map((entry, i) => `${i === 0 ? "properties: " : ""}${entry}${i < abbreviated.length - 1 ? "," : mixed ? ";" : ""}`), ...(mixed ? ["a target with no /IMPL runs the reference"] : [])];
  const legend = wrapWords(entries.map((entry) => entry.replace(/ /g, "\u00a0")).join(" "), width).map((line) => line.replace(/\u00a0/g, " "));
  const baseline = results.find((result) => result.status === "baseline")?.baseline;
  const baselineLegend = baseline ? wrapWords(`baseline: fails only as the baseline ${baseline.implementation} (${baseline.version}) fails too: upstream's failure, not this build's; it does not fail the run`, width) : [];
  const brokenLegend = results.some((result) => result.status === "broken") ? wrapWords(brokenMeaning, width) : [];
  return [table, ...legend, ...baselineLegend, ...brokenLegend, ...cut, ...replacementNotes(results, replaced)].join("\n");
}

/** What a `broken` cell means, under a table that has one. */
export const brokenMeaning = "broken: could not test (a fault of this machine, the cache, a download or the caller, said below), not a failure of the implementation; exit 3 unless something failed";

export function formatKnownFindingTable(rows: readonly KnownFindingRow[]): string {
  return textTable(knownFindingCells(rows));
}

/** What a run prints after its tables: each failure's replay line, each fixed known finding. */
export function outcomeLines(results: readonly ResultRow[], strictKnown: boolean): string[] {
  const failures = results.filter((result) => result.status === "fail" && result.replay !== null).map((result) => `FAIL ${result.target} ${result.property}: replay with: ${result.replay}`);
  const fixed = knownFindingRows(results)
    .filter((row) => row.status === "fixed")
    .map((row) => `FIXED ${row.target} ${row.property}: known finding ${row.finding} no longer reproduces; drop it from the file${strictKnown ? " (--strict-known: this fails the run)" : ""}`);
  const baseline = results.filter((result) => result.status === "baseline" && result.baseline).map((result) => `BASELINE ${result.target} ${result.property}: ${baselineNote(result.baseline!)}`);
  return [...failures, ...fixed, ...baseline];
}

/** What the CI formats (JUnit, TAP, the Markdown summary) are made from: a gate's or a merge's results. */
export interface RunResults {
  seed: number;
  results: readonly ResultRow[];
  /** --strict-known: a fixed known finding fails the run. */
  strictKnown: boolean;
  /** Planned targets that have no results (a merge missing a shard), each with why. */
  missing?: readonly { target: string; why: string }[];
  /** Targets that run in place of one this machine cannot have, each with the measured reason. */
  replaced?: readonly ReportReplacement[];
}

export type Verdict = "pass" | "fail" | "skip" | "broken";

/**
 * How a CI reads a status: a known finding passes (its note says which), a
 * fixed one passes unless --strict-known; `broken` (could not test) is
 * neither a pass nor the implementation's failure: JUnit's <error>.
 */
export function verdictOf(result: ResultRow, strictKnown: boolean): Verdict {
  if (result.status === "fail" || (result.status === "fixed" && strictKnown)) return "fail";
  if (result.status === "broken") return "broken";
  return result.status === "skip" ? "skip" : "pass";
}

/** One line per known finding that applies to the result (which, how it was matched, what it did, its reproducer), and one for the baseline when it was asked. */
export function knownNotes(result: ResultRow): string[] {
  const findings = (result.known ?? []).map((outcome) => `known finding ${outcome.finding}: ${outcome.status}${outcome.matched === "reproducer" ? " (matched by its reproducer)" : ""} (${outcome.cases} cases; reproducer ${outcome.reproducer})`);
  return [...findings, ...(result.baseline ? [baselineNote(result.baseline)] : [])];
}
