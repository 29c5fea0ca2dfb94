/**
 * A run as GitHub-flavoured Markdown (`--summary FILE`, for
 * $GITHUB_STEP_SUMMARY): the target x property table, the known findings,
 * each fault that kept a target from being tested, then each failure with its reason, counterexample and replay line. Pure.
 */
import { baselineNote } from "./baseline.ts";
import { brokenMeaning, knownFindingCells, knownFindingRows, replacementNotes, resultCells, verdictOf, type RunResults } from "./result-table.ts";
import { brokenLines } from "./verdict-line.ts";

/** A table cell: `|` would end it and a newline the row. */
export function markdownCell(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, "<br>");
}

function markdownTable([header, ...rows]: string[][]): string[] {
  const line = (cells: string[]) => `| ${cells.map(markdownCell).join(" | ")} |`;
  return [line(header!), `|${header!.map(() => " --- |").join("")}`, ...rows.map(line)];
}

/** A fenced block that its text cannot close: the fence is longer than any run of backticks in it. */
export function codeBlock(text: string): string[] {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  return [fence, text, fence];
}

export function markdownSummary(run: RunResults): string {
  const failures = run.results.filter((result) => verdictOf(result, run.strictKnown) === "fail");
  const broken = run.results.filter((result) => result.status === "broken");
  const missing = run.missing ?? [];
  const counts = [...(failures.length || !broken.length ? [`${failures.length} failed`] : []), ...(broken.length ? [`${broken.length} could not be tested (broken)`] : [])].join(", ");
  const verdict = failures.length || missing.length || broken.length ? `**${counts}**${missing.length ? `, ${missing.length} targets not run` : ""}` : "**passed**";
  const lines = [`## vforkcheck gate (seed ${run.seed}): ${verdict}`, ""];
  lines.push(...(run.results.length ? markdownTable(resultCells(run.results)) : ["No target ran."]), "");
  const replaced = replacementNotes(run.results, run.replaced ?? []);
  if (replaced.length) lines.push("### Targets in place of others", "", ...replaced.map((note) => `- ${markdownCell(note)}`), "");
  const known = knownFindingRows(run.results);
  if (known.length) lines.push("### Known findings", "", ...markdownTable(knownFindingCells(known)), "");
  // Failures the baseline shares: they pass the run, and are said, not hidden.
  const shared = run.results.filter((result) => result.status === "baseline" && result.baseline);
  if (shared.length) lines.push("### Failures the baseline shares", "", ...shared.map((result) => `- ${markdownCell(`${result.target} ${result.property}: ${baselineNote(result.baseline!)}`)}`), "");
  // Each fault once, with the targets it stopped (brokenLines: "broken: FAULT; REMEDY: WHAT").
  if (broken.length) lines.push("### Could not test (broken)", "", brokenMeaning, "", ...brokenLines(run.results).map((line) => `- ${markdownCell(line.slice("broken: ".length))}`), "");
  if (missing.length) lines.push("### Not run", "", ...missing.map((entry) => `- \`${entry.target}\`: ${entry.why}`), "");
  if (failures.length) lines.push("### Failures", "");
  for (const failure of failures)
    lines.push(`#### ${markdownCell(failure.target)} ${markdownCell(failure.property)}`, "", markdownCell(failure.reason), "", "Counterexample:", "", ...codeBlock(failure.counterexample ?? "(none)"), "", "Replay:", "", ...codeBlock(failure.replay ?? "(none)"), "");
  return lines.join("\n");
}
