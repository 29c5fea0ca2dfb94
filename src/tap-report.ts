/**
 * A run as TAP version 14 (`--tap FILE`), the way kselftest prints it: the
 * version line, the plan, then one `ok N - TARGET PROPERTY` or `not ok N -
 * ...` per target x property. A failure's YAML diagnostic block holds its
 * reason, counterexample and replay line; a result that could not be tested
 * (`broken`) is `not ok` with `status: broken` and the fault in its block
 * (TAP has no error of its own); a skip is `# SKIP reason`; a known
 * finding passes, and its block says which. Pure: returns the text.
 */
import { knownNotes, verdictOf, type RunResults } from "./result-table.ts";

/** A test point's description: no newline, and TAP's `#` and `\` escaped (they would start a directive). */
function description(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").replace(/[\\#]/g, (c) => `\\${c}`);
}

/** A YAML block at two spaces' indent; each value a JSON string, which YAML reads as a double-quoted scalar. */
function diagnostics(fields: Record<string, string | string[]>): string[] {
  const lines = Object.entries(fields).flatMap(([key, value]) => (Array.isArray(value) ? [`${key}:`, ...value.map((item) => `  - ${JSON.stringify(item)}`)] : [`${key}: ${JSON.stringify(value)}`]));
  return ["  ---", ...lines.map((line) => `  ${line}`), "  ..."];
}

export function tapReport(run: RunResults): string {
  const points = run.results.map((result) => {
    const name = description(`${result.target} ${result.property}`);
    const notes = knownNotes(result);
    const verdict = verdictOf(result, run.strictKnown);
    if (verdict === "skip") return [`ok - ${name} # SKIP ${description(result.reason)}`];
    // TAP has no "error" beside "not ok": SKIP would be ok and TODO a failure that does not count, and
    // either would let a CI pass a run that tested nothing; so `not ok`, and the block says it is broken.
    if (verdict === "broken") return [`not ok - ${name}`, ...diagnostics({ status: result.status, severity: "broken", reason: result.reason, ...(notes.length ? { known: notes } : {}) })];
    if (verdict === "fail")
      return [`not ok - ${name}`, ...diagnostics({ status: result.status, reason: result.reason, counterexample: result.counterexample ?? "", replay: result.replay ?? "", ...(notes.length ? { known: notes } : {}) })];
    return [`ok - ${name}`, ...(notes.length ? diagnostics({ status: result.status, known: notes }) : [])];
  });
  for (const missing of run.missing ?? []) points.push([`not ok - ${description(missing.target)} (not run)`, ...diagnostics({ reason: missing.why })]);
  const numbered = points.map(([first, ...rest], index) => [first!.replace(/^(not ok|ok) -/, `$1 ${index + 1} -`), ...rest]);
  const plan = points.length ? `1..${points.length}` : "1..0 # SKIP no target in this run";
  return [`TAP version 14`, `# vforkcheck gate --seed ${run.seed}`, plan, ...numbered.flat()].join("\n") + "\n";
}
