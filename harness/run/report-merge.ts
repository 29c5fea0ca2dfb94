/**
 * `vforkcheck report merge A.json B.json ... --out FILE [--junit FILE]
 * [--tap FILE] [--summary FILE]`: the shard reports of one run as one gate
 * report (src/report-merge.ts), its table on stdout and its CI formats.
 * Exit 0 the merged run passes (known findings do not fail), 1 a result
 * failed or a shard is missing or stopped early, 3 nothing failed but a
 * result could not be tested (broken), 2 bad input.
 */
import { readFileSync } from "node:fs";
import { GateReportError, parseGateReport } from "../../src/gate-report.ts";
import { knownAwareExitCode } from "../../src/known-findings.ts";
import { mergeShardReports, type ShardReport } from "../../src/report-merge.ts";
import { formatKnownFindingTable, formatResultTable, knownFindingRows, outcomeLines } from "../../src/result-table.ts";
import { UsageError } from "../../src/usage-error.ts";
import { lastValues, parseCommandLine, type CommandSpec } from "../../src/option-table.ts";
import { runOptionTable } from "./options.ts";
import { brokenLines, finalLine, runVerdict, skipLines } from "../../src/verdict-line.ts";
import { vforkcheckVersion } from "../process/package-version.ts";
import { prepareCiReportFiles, writeCiReportFiles, type CiReportFiles } from "./ci-report-files.ts";
import { prepareReportFile, writeJsonReport } from "./report-output.ts";
import { capabilitiesByArchitecture } from "./target-summary.ts";

/** `vforkcheck report merge`'s options: its parse, help and docs (--junit, --tap, --summary as the gate's). */
export const reportMergeCommandSpec: CommandSpec = {
  name: "report merge",
  summary: "the shard reports of one run (gate --shard I/N) as one report, with its table and CI formats",
  operands: "A.json B.json ...",
  options: [
    { name: "--out", value: "FILE", default: "none: required", description: "where the merged JSON report goes", example: "--out reports/gate.json" },
    ...runOptionTable(["--junit", "--tap", "--summary"]),
  ],
};

interface MergeOptions extends CiReportFiles {
  files: string[];
  out: string;
}

export function parseMergeArguments(args: readonly string[]): MergeOptions {
  let parsed;
  try {
    parsed = parseCommandLine(reportMergeCommandSpec, args);
  } catch (error) {
    throw new UsageError(`report merge: ${(error as Error).message}`);
  }
  const files = parsed.operands;
  const options: Partial<MergeOptions> = {};
  for (const [name, value] of lastValues(parsed.options)) options[name.slice(2) as "out" | "junit" | "tap" | "summary"] = value;
  if (!files.length) throw new UsageError("report merge: no report given (the shard reports of one run)");
  if (options.out === undefined) throw new UsageError("report merge: --out FILE is required");
  return { ...options, files, out: options.out };
}

function readShard(file: string): ShardReport {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new GateReportError(`${file}: cannot read: ${(error as Error).message}`);
  }
  const report = parseGateReport(text, file);
  return { file, report, json: JSON.parse(text) as { results: unknown[] } };
}

export function reportMergeCommand(args: readonly string[], print: (text: string) => void = (text) => process.stdout.write(text)): number {
  const options = parseMergeArguments(args);
  let merged;
  try {
    merged = mergeShardReports(options.files.map(readShard));
  } catch (error) {
    if (error instanceof GateReportError) throw new UsageError(`report merge: ${error.message}`);
    throw error;
  }
  const unwritable = prepareCiReportFiles(options, { option: "--out", file: options.out }) ?? prepareReportFile(options.out, "--out");
  if (unwritable) throw new UsageError(`report merge: ${unwritable}`);
  const knownFindings = knownFindingRows(merged.results);
  // The merged run's verdict, worked out again from all the shards' results (each shard's is its own).
  const statuses = [...merged.results.map((result) => result.status), ...knownFindings.map((row) => row.status)];
  const exitCode = merged.malformed.length ? 2 : merged.problems.length ? 1 : knownAwareExitCode(statuses, merged.strictKnown);
  writeJsonReport(options.out, {
    vforkcheck: vforkcheckVersion,
    argv: process.argv.slice(2),
    verdict: runVerdict(exitCode),
    exitCode,
    seed: merged.seed,
    ...(merged.partial ? { partial: true } : {}),
    ...(merged.strictKnown ? { strictKnown: true } : {}),
    ...(merged.wall_s !== undefined ? { wall_s: merged.wall_s } : {}),
    shards: merged.shards,
    plan: merged.plan,
    ...(merged.missing.length ? { missing: merged.missing } : {}),
    ...(merged.malformed.length ? { malformed: merged.malformed } : {}),
    ...(merged.replaced.length ? { replaced: merged.replaced } : {}),
    implementations: merged.implementations,
    results: merged.resultJson,
    ...(knownFindings.length ? { knownFindings } : {}),
    targets: merged.targets,
    capabilities: capabilitiesByArchitecture(merged.targets),
  });
  writeCiReportFiles(options, { seed: merged.seed, results: merged.results, strictKnown: merged.strictKnown, missing: merged.missing, replaced: merged.replaced });
  print(`${formatResultTable(merged.results, undefined, merged.replaced)}\n`);
  if (knownFindings.length) print(`\n${formatKnownFindingTable(knownFindings)}\n`);
  // As the gate prints them: the skip reasons, the failures' replay lines, then the final line.
  for (const line of [...skipLines(merged.results), ...brokenLines(merged.results)]) print(`${line}\n`);
  for (const line of outcomeLines(merged.results, merged.strictKnown)) print(`${line}\n`);
  for (const problem of merged.problems) process.stderr.write(`vforkcheck report merge: ${problem}\n`);
  // What the shard's gate said and exited 2 for: the merge of that run exits 2 the same way.
  for (const { target, message } of merged.malformed) process.stderr.write(`vforkcheck: ${target}: malformed answer from the implementation: ${message}\n`);
  print(`merged: ${options.out} (${options.files.length} reports, ${merged.results.length} results)\n`);
  print(`${finalLine({ statuses: merged.results.map((result) => result.status), exitCode, seconds: merged.wall_s, report: options.out, why: merged.problems.length ? merged.problems[0] : undefined })}\n`);
  return exitCode;
}
