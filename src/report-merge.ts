/**
 * `vforkcheck report merge`: the shard reports of one run (`gate --shard
 * I/N`) as the report of the whole run. Refuses (GateReportError, bad
 * input) reports that are not shards of one run: different seeds, plans or
 * shard counts, a shard given twice, a target in two reports. A shard that
 * is missing or stopped early is no refusal: the merged report says which,
 * and the run does not pass. Pure: the harness reads and writes the files.
 */
import { GateReportError, type GateReport, type ReportImplementation, type ReportMalformed, type ReportReplacement, type ReportResult, type ReportTarget } from "./gate-report.ts";

/** One shard report: what the reader checked, and its JSON as written (the merged report keeps every field of its results). */
export interface ShardReport {
  file: string;
  report: GateReport;
  json: { results: unknown[] };
}

export interface MergedRun {
  seed: number;
  plan: string[];
  strictKnown: boolean;
  /** A shard stopped early or is missing. */
  partial: boolean;
  /** Each shard given: which, from which file, its seconds. */
  shards: { index: number; count: number; file: string; wall_s?: number }[];
  implementations: ReportImplementation[];
  /** In plan order; each shard's order within a target. */
  results: ReportResult[];
  /** The results as the shards wrote them, in the same order. */
  resultJson: unknown[];
  targets: ReportTarget[];
  /** The slowest shard's: the shards run side by side, so the run took as long as it. */
  wall_s?: number;
  /** Planned targets with no result, each with why (a missing shard's, or one that stopped early). */
  missing: { target: string; why: string }[];
  /** One line each: what keeps the run from being whole. */
  problems: string[];
  /** Every shard's malformed answers: the run would have exited 2, and so does the merge. */
  malformed: ReportMalformed[];
  /** The plan's targets in place of ones the machine could not have (each shard lists the whole plan's; once each here). */
  replaced: ReportReplacement[];
}

const shardOf = (report: GateReport) => report.shard ?? { index: 1, count: 1 };
const shardName = (report: GateReport) => `shard ${shardOf(report).index}/${shardOf(report).count}`;

function checkSameRun(shards: readonly ShardReport[]): void {
  const [first] = shards;
  if (!first) throw new GateReportError("report merge: no report given");
  for (const { file, report } of shards) {
    if (!report.plan) throw new GateReportError(`${file}: the report has no 'plan' (written by a vforkcheck before --shard); run the gate again`);
    if (report.seed !== first.report.seed) throw new GateReportError(`${file}: seed ${report.seed}, but ${first.file} has seed ${first.report.seed}: not shards of one run`);
    if (JSON.stringify(report.plan) !== JSON.stringify(first.report.plan)) throw new GateReportError(`${file}: its plan differs from ${first.file}'s: not shards of one run`);
    if (shardOf(report).count !== shardOf(first.report).count) throw new GateReportError(`${file}: ${shardName(report)}, but ${first.file} is ${shardName(first.report)}: not shards of one run`);
  }
  const owner = new Map<string, string>();
  shards.forEach(({ file, report }, at) => {
    const twice = shards.findIndex((other) => shardOf(other.report).index === shardOf(report).index);
    if (twice !== at) throw new GateReportError(`${file} and ${shards[twice]!.file} are both ${shardName(report)}`);
    for (const target of new Set(report.results.map((result) => result.target))) {
      if (!first.report.plan!.includes(target)) throw new GateReportError(`${file}: results for ${target}, which the plan does not list`);
      const other = owner.get(target);
      if (other !== undefined) throw new GateReportError(`${file}: results for ${target}, which ${other} has too: overlapping shards`);
      owner.set(target, file);
    }
  });
}

export function mergeShardReports(shards: readonly ShardReport[]): MergedRun {
  checkSameRun(shards);
  const plan = shards[0]!.report.plan!;
  const count = shardOf(shards[0]!.report).count;
  const planned = (target: string) => {
    const index = plan.indexOf(target);
    return index < 0 ? plan.length : index; // a user-tier probe's summary, after the targets
  };
  const entries = shards.flatMap(({ report, json }) => report.results.map((result, index) => ({ result, json: json.results[index] })));
  entries.sort((a, b) => planned(a.result.target) - planned(b.result.target)); // stable: a target's results keep their order
  const targetsByName = new Map<string, ReportTarget>();
  for (const target of shards.flatMap(({ report }) => report.targets)) if (!targetsByName.has(target.target)) targetsByName.set(target.target, target);
  const targets = [...targetsByName.values()].sort((a, b) => planned(a.target) - planned(b.target));
  const implementations = [...new Map(shards.flatMap(({ report }) => report.implementations).map((implementation) => [implementation.label, implementation])).values()];
  const present = new Set(shards.map(({ report }) => shardOf(report).index));
  const missingShards = Array.from({ length: count }, (_, index) => index + 1).filter((index) => !present.has(index));
  const stopped = shards.filter(({ report }) => report.partial);
  const reported = new Set(entries.map(({ result }) => result.target));
  const why = missingShards.length ? `no report of shard ${missingShards.map((index) => `${index}/${count}`).join(", ")}` : "no result in the shard reports";
  const missing = plan.filter((target) => !reported.has(target)).map((target) => ({ target, why }));
  const problems = [
    ...missingShards.map((index) => `missing shard ${index}/${count}${missing.length ? ` (targets without results: ${missing.map((entry) => entry.target).join(", ")})` : ""}`),
    ...stopped.map(({ file, report }) => `${file}: ${shardName(report)} stopped early (partial report)`),
  ];
  if (!missingShards.length && missing.length) problems.push(`targets without results: ${missing.map((entry) => entry.target).join(", ")}`);
  const walls = shards.map(({ report }) => report.wall_s).filter((wall) => wall !== undefined);
  return {
    seed: shards[0]!.report.seed,
    plan,
    strictKnown: shards.some(({ report }) => report.strictKnown),
    partial: problems.length > 0,
    shards: shards.map(({ file, report }) => ({ ...shardOf(report), file, ...(report.wall_s !== undefined ? { wall_s: report.wall_s } : {}) })).sort((a, b) => a.index - b.index),
    implementations,
    results: entries.map(({ result }) => result),
    resultJson: entries.map(({ json }) => json),
    targets,
    ...(walls.length ? { wall_s: Math.max(...walls) } : {}),
    missing,
    problems,
    malformed: shards.flatMap(({ report }) => report.malformed),
    replaced: [...new Map(shards.flatMap(({ report }) => report.replaced ?? []).map((entry) => [entry.target, entry])).values()],
  };
}
