/**
 * `vforkcheck known suggest`: a gate report's failures as known-findings
 * entries that `--known FILE` accepts as they are. Each entry's reproducer
 * is the failure's case as the report keeps it; its problem patterns are
 * the failure's problems, anchored and escaped, with only the numbers
 * generalized (see problemPattern); its rootCause and source are
 * placeholders a person replaces. Pure: text in, entries out.
 */
import { GateReportError, parseGateReport, type ReportImplementation, type ReportResult } from "./gate-report.ts";
import { parseKnownFindings, type KnownNames } from "./known-findings.ts";
import type { Json } from "./json-fields.ts";

/** What a person must write in place of these before the file is committed; the parser accepts them so the file can be tried first. */
export const rootCausePlaceholder = "TODO: the root cause: what in the implementation's source makes this case fail";
export const sourcePlaceholder = "TODO: a link to the bug, or file and line in the affected release";

export interface SuggestSelection {
  /** A target as results name it ("amd64/host/go") or as arch/tier ("amd64/host"). */
  target?: string;
  property?: string;
}

export interface Suggestion {
  entries: Json[];
  /** Failures no entry could be made from, each with why. */
  passedOver: string[];
}

const numberToken = /0x[0-9a-fA-F]+|\b\d+\b/g;
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/**
 * A problem as a regular expression that matches it again: anchored at both
 * ends and escaped, every number made `\d+` (hex ones `0x[0-9a-f]+`). The
 * numbers are what differs from run to run (pids always; descriptor numbers,
 * counts and masks with what the implementation and the machine did before);
 * the words name the check, the field, the errno, the step and the signal,
 * which are the bug. A number inside a word (E2BIG) is part of the word.
 */
export function problemPattern(problem: string): string {
  let pattern = "";
  let at = 0;
  for (const match of problem.matchAll(numberToken)) {
    pattern += escapeRegExp(problem.slice(at, match.index)) + (match[0].startsWith("0x") ? "0x[0-9a-f]+" : "\\d+");
    at = match.index + match[0].length;
  }
  return `^${pattern}${escapeRegExp(problem.slice(at))}$`;
}

/** What checkOutcome's texts (src/checks.ts) say of the spawn: its outcome, the errno it got, the step the oracle expected to fail. */
interface OutcomeShape {
  outcome: "error" | "spawned";
  errno?: string;
  step?: string;
}

function outcomeShape(problem: string): OutcomeShape | undefined {
  const succeeded = /^spawn succeeded \(pid \d+\); expected E[A-Z0-9]+ from (\w+)/.exec(problem);
  if (succeeded) return { outcome: "spawned", step: succeeded[1]! };
  const wrongErrno = /^spawn failed with (E[A-Z0-9]+) \(\d+\), expected .* from (\w+)$/.exec(problem);
  if (wrongErrno) return { outcome: "error", errno: wrongErrno[1]!, step: wrongErrno[2]! };
  const failed = /^spawn failed with (E[A-Z0-9]+) \(\d+\); expected success$/.exec(problem);
  if (failed) return { outcome: "error", errno: failed[1]! };
  return undefined;
}

/** The matcher's outcome, errno and step when the problems show them, and all that do agree. */
function outcomeMatcher(problems: readonly string[]): Record<string, Json> {
  const shapes = problems.map(outcomeShape).filter((shape) => shape !== undefined);
  const first = shapes[0];
  if (!first || shapes.some((shape) => JSON.stringify(shape) !== JSON.stringify(first))) return {};
  return { outcome: first.outcome, ...(first.errno ? { errno: [first.errno] } : {}), ...(first.step ? { step: [first.step] } : {}) };
}

/** A version as a glob that matches only itself: `*` and `?` are the glob's own, so each stands for one character there. */
const exactGlob = (version: string) => version.replace(/[*?]/g, "?");

const slug = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");

function checkSelection(results: readonly ReportResult[], selection: SuggestSelection, file: string): void {
  const { target, property } = selection;
  if (target !== undefined && !results.some((result) => result.target === target || `${result.arch}/${result.tier}` === target))
    throw new GateReportError(`--target: ${file} has no results on '${target}' (its targets: ${[...new Set(results.map((result) => result.target))].join(", ") || "none"})`);
  if (property !== undefined && !results.some((result) => result.property === property))
    throw new GateReportError(`--property: ${file} has no results of '${property}' (its properties: ${[...new Set(results.map((result) => result.property))].join(", ") || "none"})`);
}

/**
 * The entries for a report's failures (every one, or those of the target and
 * property selected), each checked by the findings file's own parser.
 * Throws a one-line GateReportError for a report that is none, one without
 * the cases or problems (an older vforkcheck's), or a selection it lacks.
 */
export function suggestKnownFindings(text: string, file: string, selection: SuggestSelection, names: KnownNames): Suggestion {
  const report = parseGateReport(text, file);
  checkSelection(report.results, selection, file);
  const entries: Json[] = [];
  const passedOver: string[] = [];
  const ids = new Set<string>();
  report.results.forEach((result, index) => {
    if (result.status !== "fail") return;
    if (selection.target !== undefined && result.target !== selection.target && `${result.arch}/${result.tier}` !== selection.target) return;
    if (selection.property !== undefined && result.property !== selection.property) return;
    const where = `${result.target} ${result.property}`;
    if (result.counterexample === null) return passedOver.push(`${where}: no counterexample (${result.reason.split("\n")[0]}): nothing to reproduce`);
    const { reproducer, problems } = result;
    if (reproducer === undefined || problems === undefined || problems.length === 0)
      throw new GateReportError(`${file}: results[${index}] (${where}) failed without its case and problems list ('reproducer', 'problems'): written by an older vforkcheck; run the gate again`);
    const implementation = report.implementations.find((candidate) => candidate.label === result.impl) as ReportImplementation;
    const base = slug(`${implementation.name}-${result.property}-${result.arch}-${result.tier}`);
    let id = base;
    for (let n = 2; ids.has(id); n++) id = `${base}-${n}`;
    ids.add(id);
    entries.push({
      id,
      implementation: implementation.name,
      version: exactGlob(implementation.version),
      targets: [`${result.arch}/${result.tier}`],
      properties: [result.property],
      match: { problems: [...new Set(problems.map(problemPattern))], ...outcomeMatcher(problems) },
      rootCause: rootCausePlaceholder,
      source: sourcePlaceholder,
      reproducer,
    });
  });
  // What the file's reader says of the entries is what --known will: a fault here is this module's.
  parseKnownFindings(JSON.stringify(entries), `the entries suggested from ${file}`, names);
  return { entries, passedOver };
}
