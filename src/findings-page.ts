/**
 * docs/findings.md from one gate report and the findings catalogue. The
 * findings come first, since they are what a reader opens the page for: a
 * section per finding of the run (the shrunk counterexample, the root cause
 * in that release's source, the reproducer and what it showed, the upstream
 * status, then where the run met it), the failures no finding explains, the
 * catalogued findings the run did not show; the table runtime × version ×
 * architecture × tier → verdict comes last. Pure: text in, text out.
 */
import { catalogueFindingFor, reproducerVerdict, rootCauseFor, type CatalogueFinding } from "./findings-catalogue.ts";
import { describeFlags } from "./flags.ts";
import type { GateReport, ReportImplementation, ReportResult } from "./gate-report.ts";

export type Verdict = "pass" | "fail" | "broken" | "skip" | "known" | "fixed";

/** One target of one implementation: a row of the table. */
export interface VerdictRow {
  implementation: ReportImplementation;
  arch: string;
  tier: string;
  target: string;
  verdict: Verdict;
  detail: string;
}

/** A known finding where the run met it: one target and property. */
interface Occurrence {
  result: ReportResult;
  implementation: ReportImplementation;
  outcome: ReportResult["known"][number];
}

/** Table cells hold no pipe or line break. */
const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");
const code = (text: string) => `\`${text.replace(/`/g, "'")}\``;

/** A case as the report describes it (src/spawn-case.ts describeCase), its flag masks by name. */
export function readableCase(description: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(description);
  } catch {
    return description;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return description;
  const fields = parsed as Record<string, unknown>;
  for (const key of ["cloneFlags", "unshareFlags"]) if (typeof fields[key] === "number") fields[key] = describeFlags(fields[key] as number);
  return JSON.stringify(fields);
}

/** The name a known-findings id is shown by: its catalogue finding's id when it has one. */
function findingName(catalogue: readonly CatalogueFinding[], knownFinding: string): string {
  return catalogueFindingFor(catalogue, knownFinding)?.id ?? knownFinding;
}

/**
 * A target's verdict from its properties': fail if any failed; else broken
 * if one could not be tested; else fixed if
 * a known finding no longer reproduces; else known if one explained cases;
 * else skip if every property was skipped; else pass.
 */
export function verdictRows(report: GateReport, catalogue: readonly CatalogueFinding[]): VerdictRow[] {
  const groups = new Map<string, ReportResult[]>();
  for (const result of report.results) {
    const key = `${result.impl}\u0000${result.target}`;
    groups.set(key, [...(groups.get(key) ?? []), result]);
  }
  return [...groups.values()].map((results) => {
    const first = results[0]!;
    const implementation = report.implementations.find((candidate) => candidate.label === first.impl)!;
    const withStatus = (status: Verdict) => results.filter((result) => result.status === status);
    const findingsWith = (status: "known" | "fixed") =>
      [...new Set(results.flatMap((result) => result.known.filter((outcome) => outcome.status === status).map((outcome) => `${findingName(catalogue, outcome.finding)} (${result.property})`)))].join(", ");
    const skipped = withStatus("skip").map((result) => `${result.property} skipped: ${result.reason}`);
    let verdict: Verdict;
    let detail: string;
    if (withStatus("fail").length) [verdict, detail] = ["fail", withStatus("fail").map((result) => result.property).join(", ")];
    else if (withStatus("broken").length) [verdict, detail] = ["broken", [...new Set(withStatus("broken").map((result) => result.reason))].join("; ")];
    else if (withStatus("fixed").length) [verdict, detail] = ["fixed", `no longer reproduces: ${findingsWith("fixed")}`];
    else if (withStatus("known").length) [verdict, detail] = ["known", findingsWith("known")];
    else if (skipped.length === results.length) [verdict, detail] = ["skip", [...new Set(results.map((result) => result.reason))].join("; ")];
    else [verdict, detail] = ["pass", `${withStatus("pass").length} of ${results.length} properties pass`];
    if (verdict !== "skip" && skipped.length) detail += `; ${skipped.join("; ")}`;
    return { implementation, arch: first.arch, tier: first.tier, target: first.target, verdict, detail };
  });
}

function verdictTable(rows: readonly VerdictRow[]): string[] {
  return [
    "| runtime | version | architecture | tier | target | verdict | detail |",
    "|---|---|---|---|---|---|---|",
    ...rows.map((row) => `| ${[row.implementation.name, row.implementation.version, row.arch, row.tier, row.target, `**${row.verdict}**`, row.detail].map(cell).join(" | ")} |`),
  ];
}

function occurrencesOf(report: GateReport): Occurrence[] {
  return report.results.flatMap((result) =>
    result.known.map((outcome) => ({ result, outcome, implementation: report.implementations.find((candidate) => candidate.label === result.impl)! })),
  );
}

function rootCauseLines(finding: CatalogueFinding, versions: readonly string[]): string[] {
  if (versions.length === 0)
    return finding.rootCauses.map((cause) => `- ${cause.release}: ${code(cause.file)}, function ${code(cause.function)}: ${cause.where}.`);
  return versions.map((version) => {
    const cause = rootCauseFor(finding, version);
    return cause
      ? `- ${version}: read in ${cause.release}: ${code(cause.file)}, function ${code(cause.function)}: ${cause.where}.`
      : `- ${version}: not read: the catalogue has no root cause for this release line (docs/findings/${finding.id}/finding.json, rootCauses).`;
  });
}

function reproducerLines(finding: CatalogueFinding): string[] {
  const directory = `findings/${finding.id}`;
  const program = `${directory}/${finding.reproducer.program}`;
  return [
    `Reproducer: [${program}](${program}), without vforkcheck: ${code(`cd docs/${directory} && ${finding.reproducer.command}`)}. Exit status ${finding.reproducer.exitStatus}`,
    "",
    "| toolchain | version | target | exit | bug | output |",
    "|---|---|---|---|---|---|",
    ...finding.reproducer.measured.map((run) => `| ${[run.toolchain, run.version, run.target, String(run.exit), reproducerVerdict(run.exit), run.output].map(cell).join(" | ")} |`),
  ];
}

function upstreamLines(finding: CatalogueFinding): string[] {
  const { upstream } = finding;
  return [`Known upstream: **${upstream.status}**${upstream.references.length ? ` (${upstream.references.join(", ")})` : ""}. ${upstream.checked}`];
}

function occurrenceLines(occurrences: readonly Occurrence[]): string[] {
  const byCase = new Map<string, Occurrence[]>();
  for (const occurrence of occurrences) {
    const key = occurrence.outcome.reproducerCase ?? "";
    byCase.set(key, [...(byCase.get(key) ?? []), occurrence]);
  }
  return [...byCase.keys()].map((reproducerCase) =>
    reproducerCase
      ? `- Shrunk counterexample (the case the known finding was filed with, run again on each target): ${code(readableCase(reproducerCase))}`
      : "- Shrunk counterexample: not in this report (written by a gate that did not record the known finding's case)",
  );
}

function occurrenceTable(occurrences: readonly Occurrence[]): string[] {
  return [
    "Where this run met it:",
    "",
    "| target | version | property | status | cases explained | first case explained | reproducer |",
    "|---|---|---|---|---|---|---|",
    ...occurrences.map(
      ({ result, implementation, outcome }) =>
        `| ${[result.target, implementation.version, result.property, outcome.status, String(outcome.cases), outcome.example === null ? "none" : code(readableCase(outcome.example)), outcome.reproducer].map(cell).join(" | ")} |`,
    ),
  ];
}

function catalogueSection(finding: CatalogueFinding, occurrences: readonly Occurrence[]): string[] {
  const versions = [...new Set(occurrences.map((occurrence) => occurrence.implementation.version))];
  return [
    `### ${finding.id}: ${finding.title}`,
    "",
    finding.summary,
    "",
    ...(occurrences.length ? [...occurrenceLines(occurrences), ""] : []),
    "Root cause:",
    "",
    ...rootCauseLines(finding, versions),
    "",
    ...reproducerLines(finding),
    "",
    ...upstreamLines(finding),
    "",
    ...(occurrences.length ? [...occurrenceTable(occurrences), ""] : []),
  ];
}

function uncataloguedSection(knownFinding: string, occurrences: readonly Occurrence[]): string[] {
  return [
    `### ${knownFinding} (not catalogued)`,
    "",
    `A known finding of the run with no docs/findings/<id>/finding.json that lists it in knownFindings: root cause, reproducer and upstream status not recorded.`,
    "",
    ...occurrenceLines(occurrences),
    "",
    ...occurrenceTable(occurrences),
    "",
  ];
}

function failureSection(result: ReportResult, implementation: ReportImplementation): string[] {
  return [
    `### ${result.target} ${result.property} (${implementation.name} ${implementation.version})`,
    "",
    `- Shrunk counterexample: ${result.counterexample === null ? "none (the target did not run the property)" : code(readableCase(result.counterexample))}`,
    `- What failed: ${result.reason}`,
    ...(result.replay === null ? [] : [`- Replay: ${code(result.replay)}`]),
    "",
  ];
}

/** The known-findings ids of the run that no catalogue finding lists. */
export function uncataloguedFindings(report: GateReport, catalogue: readonly CatalogueFinding[]): string[] {
  return [...new Set(occurrencesOf(report).map((occurrence) => occurrence.outcome.finding))].filter((id) => catalogueFindingFor(catalogue, id) === undefined);
}

/** The whole page. `reportName` is how the page names the report it was made from. */
export function findingsPage(report: GateReport, catalogue: readonly CatalogueFinding[], reportName: string): string {
  const rows = verdictRows(report, catalogue);
  const occurrences = occurrencesOf(report);
  const counts = (["pass", "known", "fixed", "skip", "fail", "broken"] as const).map((verdict) => `${rows.filter((row) => row.verdict === verdict).length} ${verdict}`).join(", ");
  const shown = catalogue.filter((finding) => occurrences.some((occurrence) => finding.knownFindings.includes(occurrence.outcome.finding)));
  const notShown = catalogue.filter((finding) => !shown.includes(finding));
  const uncatalogued = uncataloguedFindings(report, catalogue);
  const failures = report.results.filter((result) => result.status === "fail");
  const lines = [
    "# What vforkcheck finds in real runtimes",
    "",
    `Generated by ${code(`npx vforkcheck findings ${reportName}`)} from one gate run (seed ${report.seed}${report.partial ? "; a partial report: the run was stopped early" : ""}). Do not edit: regenerate.`,
    "Root causes, reproducers and upstream status come from the catalogue, docs/findings/<id>/finding.json.",
    "",
    `This run: ${shown.length + uncatalogued.length} finding(s) (${[...shown.map((finding) => finding.id), ...uncatalogued].join(", ") || "none"}), ${failures.length} failure(s) no finding explains, ${rows.length} targets; the verdict of each is in the table at the end.`,
    "",
    "## Findings of this run",
    "",
    ...(shown.length || uncatalogued.length ? [] : ["None: no known finding explained a case of this run.", ""]),
    ...shown.flatMap((finding) => catalogueSection(finding, occurrences.filter((occurrence) => finding.knownFindings.includes(occurrence.outcome.finding)))),
    ...uncatalogued.flatMap((id) => uncataloguedSection(id, occurrences.filter((occurrence) => occurrence.outcome.finding === id))),
    "## Failures no finding explains",
    "",
    ...(failures.length ? failures.flatMap((result) => failureSection(result, report.implementations.find((candidate) => candidate.label === result.impl)!)) : ["None.", ""]),
    "## Catalogued findings this run did not show",
    "",
    ...(notShown.length ? notShown.flatMap((finding) => catalogueSection(finding, [])) : ["None.", ""]),
    "## Every target",
    "",
    `Verdict per target: ${counts}. A target fails if any property fails; it is broken if a fault of the machine, the cache, a download or the caller kept a property from being tested; it is fixed if a known finding no longer reproduces, known if a known finding explains its failures, skip if every property was skipped, else pass.`,
    "",
    ...verdictTable(rows),
  ];
  return `${lines.join("\n").trimEnd()}\n`;
}
