/**
 * A gate report (`vforkcheck gate --report FILE`) read back: the parts that
 * `vforkcheck findings` tabulates, checked so that any other JSON is said to
 * be no gate report in one line. Pure: the harness reads the file.
 */

/** `broken`: could not test (a fault of the machine, the cache, a download or the caller: src/broken.ts), never the implementation's. */
export const resultStatuses = ["pass", "fail", "broken", "skip", "known", "fixed", "baseline"] as const;
export type ResultStatus = (typeof resultStatuses)[number];

/** One implementation of the run, as the gate labels it and as it reports its version. */
export interface ReportImplementation {
  /** What results' `impl` says ("go", "go@1.24", "go@/path/to/goroot"). */
  label: string;
  /** The implementation's name ("go", "glibc", "musl", "reference"). */
  name: string;
  /** Its version as known findings match it ("go1.19.8", "2.36"). */
  version: string;
}

/** A known finding on one target and property (src/known-findings.ts FindingOutcome). */
export interface ReportFindingOutcome {
  finding: string;
  status: "known" | "fixed" | "fail";
  cases: number;
  example: string | null;
  reproducer: string;
  /** The finding's reproducer case: the shrunk counterexample it was filed with (absent in older reports). */
  reproducerCase?: string;
  /** How it came to apply: its version glob, or its reproducer on a version it does not name (absent in older reports). */
  matched?: "version" | "reproducer";
}

/** The baseline (--baseline) on one target and property (src/baseline.ts BaselineOutcome). */
export interface ReportBaselineOutcome {
  implementation: string;
  version: string;
  cases: number;
  example: string | null;
  problems: string[];
  unavailable?: string;
}

/** What the tables and the CI formats read of one result (a gate's PropertyResult or a report's result). */
export interface ResultRow {
  arch: string;
  tier: string;
  impl: string;
  target: string;
  property: string;
  status: ResultStatus;
  reason: string;
  counterexample: string | null;
  replay: string | null;
  known?: readonly ReportFindingOutcome[];
  baseline?: ReportBaselineOutcome;
  /** Seconds the property took on the target (absent in older reports and for a target that did not start). */
  duration_s?: number;
}

/** A result as a report holds it: every row carries its known-finding outcomes, none or more. */
export interface ReportResult extends ResultRow {
  known: ReportFindingOutcome[];
  /** A failure's problems as a list, and its case in the known-findings file's reproducer format (absent in older reports). */
  problems?: string[];
  reproducer?: JsonObject;
}

/** A target's summary (harness/run/target-summary.ts): what merge keeps of it is the whole object. */
export interface ReportTarget {
  target: string;
  arch: string;
  tier: string;
  capabilities: unknown;
  [field: string]: unknown;
}

/** `--shard I/N`: this report holds the I-th of N shares of the plan's targets. */
export interface ReportShard {
  index: number;
  count: number;
}

export interface GateReport {
  seed: number;
  partial: boolean;
  implementations: ReportImplementation[];
  results: ReportResult[];
  targets: ReportTarget[];
  /** Seconds the run took (absent in older reports). */
  wall_s?: number;
  /** The whole run's planned target names, every shard's (absent in older reports). */
  plan?: string[];
  /** Absent: the run was not sharded. */
  shard?: ReportShard;
  /** The run was made with --strict-known: a fixed known finding fails it. */
  strictKnown: boolean;
  /** Targets a malformed answer from the implementation stopped (the gate exited 2). */
  malformed: ReportMalformed[];
  /** The plan's targets that replace one this machine cannot have (parseGateReport: [] for older reports). */
  replaced?: ReportReplacement[];
}

export interface ReportMalformed {
  target: string;
  message: string;
}

/** A planned target that runs in place of one this machine cannot have ("386/user" for "386/host"), with the measured reason. */
export interface ReportReplacement {
  target: string;
  inPlaceOf: string;
  reason: string;
}

export class GateReportError extends Error {}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (value: Json | undefined): value is JsonObject => value !== null && typeof value === "object" && !Array.isArray(value);

function field<T>(where: string, entry: JsonObject, name: string, type: "string" | "number", nullable = false): T {
  const value = entry[name];
  if ((nullable && value === null) || typeof value === type) return value as T;
  throw new GateReportError(`${where}: '${name}' must be a ${type}${nullable ? " or null" : ""}`);
}

function readOutcome(where: string, value: Json): ReportFindingOutcome {
  if (!isObject(value)) throw new GateReportError(`${where} must be an object`);
  const status = field<string>(where, value, "status", "string");
  if (status !== "known" && status !== "fixed" && status !== "fail") throw new GateReportError(`${where}: unknown status '${status}'`);
  return {
    finding: field(where, value, "finding", "string"),
    status,
    cases: field(where, value, "cases", "number"),
    example: field(where, value, "example", "string", true),
    reproducer: field(where, value, "reproducer", "string"),
    ...(typeof value.reproducerCase === "string" ? { reproducerCase: value.reproducerCase } : {}),
    ...(value.matched === "version" || value.matched === "reproducer" ? { matched: value.matched } : {}),
  };
}

function readBaseline(where: string, value: Json): ReportBaselineOutcome {
  if (!isObject(value)) throw new GateReportError(`${where} must be an object`);
  const problems = value.problems;
  if (!Array.isArray(problems) || problems.some((problem) => typeof problem !== "string")) throw new GateReportError(`${where}: 'problems' must be a list of strings`);
  return {
    implementation: field(where, value, "implementation", "string"),
    version: field(where, value, "version", "string"),
    cases: field(where, value, "cases", "number"),
    example: field(where, value, "example", "string", true),
    problems: problems as string[],
    ...(typeof value.unavailable === "string" ? { unavailable: value.unavailable } : {}),
  };
}

function readResult(file: string, value: Json, index: number): ReportResult {
  const where = `${file}: results[${index}]`;
  if (!isObject(value)) throw new GateReportError(`${where} must be an object`);
  const status = field<string>(where, value, "status", "string");
  if (!(resultStatuses as readonly string[]).includes(status)) throw new GateReportError(`${where}: unknown status '${status}' (known: ${resultStatuses.join(",")})`);
  const known = value.known === undefined ? [] : value.known;
  if (!Array.isArray(known)) throw new GateReportError(`${where}: 'known' must be a list`);
  return {
    arch: field(where, value, "arch", "string"),
    tier: field(where, value, "tier", "string"),
    impl: field(where, value, "impl", "string"),
    target: field(where, value, "target", "string"),
    property: field(where, value, "property", "string"),
    status: status as ResultStatus,
    reason: field(where, value, "reason", "string"),
    counterexample: field(where, value, "counterexample", "string", true),
    replay: field(where, value, "replay", "string", true),
    known: known.map((outcome, at) => readOutcome(`${where}.known[${at}]`, outcome)),
    ...(value.baseline === undefined ? {} : { baseline: readBaseline(`${where}.baseline`, value.baseline) }),
    ...(typeof value.duration_s === "number" ? { duration_s: value.duration_s } : {}),
    ...(value.problems === undefined ? {} : { problems: readProblems(`${where}.problems`, value.problems) }),
    ...(value.reproducer === undefined ? {} : { reproducer: readReproducer(`${where}.reproducer`, value.reproducer) }),
  };
}

function readProblems(where: string, value: Json): string[] {
  if (!Array.isArray(value) || value.some((problem) => typeof problem !== "string")) throw new GateReportError(`${where} must be a list of strings`);
  return value as string[];
}

/** Kept as the report wrote it: the known-findings parser is what reads a reproducer. */
function readReproducer(where: string, value: Json): JsonObject {
  if (!isObject(value)) throw new GateReportError(`${where} must be an object`);
  return value;
}

function readImplementation(file: string, value: Json, index: number): ReportImplementation {
  const where = `${file}: implementations[${index}]`;
  if (!isObject(value)) throw new GateReportError(`${where} must be an object`);
  return { label: field(where, value, "label", "string"), name: field(where, value, "name", "string"), version: field(where, value, "version", "string") };
}

function readTarget(file: string, value: Json, index: number): ReportTarget {
  const where = `${file}: targets[${index}]`;
  if (!isObject(value)) throw new GateReportError(`${where} must be an object`);
  return { ...value, target: field(where, value, "target", "string"), arch: field(where, value, "arch", "string"), tier: field(where, value, "tier", "string"), capabilities: value.capabilities };
}

function readShard(file: string, value: Json | undefined): ReportShard | undefined {
  if (value === undefined) return undefined;
  const valid = isObject(value) && Number.isInteger(value.index) && Number.isInteger(value.count) && (value.index as number) >= 1 && (value.index as number) <= (value.count as number);
  if (!valid) throw new GateReportError(`${file}: 'shard' must be {index, count} with 1 <= index <= count`);
  return { index: value.index as number, count: value.count as number };
}

function readMalformed(file: string, value: Json | undefined): ReportMalformed[] {
  if (value === undefined) return [];
  const valid = Array.isArray(value) && value.every((entry) => isObject(entry) && typeof entry.target === "string" && typeof entry.message === "string");
  if (!valid) throw new GateReportError(`${file}: 'malformed' must be a list of {target, message}`);
  return (value as JsonObject[]).map((entry) => ({ target: entry.target as string, message: entry.message as string }));
}

function readReplaced(file: string, value: Json | undefined): ReportReplacement[] {
  if (value === undefined) return [];
  const valid = Array.isArray(value) && value.every((entry) => isObject(entry) && typeof entry.target === "string" && typeof entry.inPlaceOf === "string" && typeof entry.reason === "string");
  if (!valid) throw new GateReportError(`${file}: 'replaced' must be a list of {target, inPlaceOf, reason}`);
  return (value as JsonObject[]).map((entry) => ({ target: entry.target as string, inPlaceOf: entry.inPlaceOf as string, reason: entry.reason as string }));
}

function readPlan(file: string, value: Json | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((name) => typeof name !== "string")) throw new GateReportError(`${file}: 'plan' must be a list of target names`);
  return value as string[];
}

/** A gate report's text; throws a one-line GateReportError naming the file at the first fault. */
export function parseGateReport(text: string, file: string): GateReport {
  let json: Json;
  try {
    json = JSON.parse(text) as Json;
  } catch (error) {
    throw new GateReportError(`${file}: not a gate report: not JSON (${(error as Error).message.split("\n")[0]})`);
  }
  if (!isObject(json) || typeof json.seed !== "number" || !Array.isArray(json.results) || !Array.isArray(json.targets))
    throw new GateReportError(`${file}: not a gate report (it has no seed, results and targets; vforkcheck gate --report writes one)`);
  if (!Array.isArray(json.implementations))
    throw new GateReportError(`${file}: the gate report has no 'implementations' (each implementation's label and version): written by an older vforkcheck; run the gate again`);
  const implementations = json.implementations.map((implementation, index) => readImplementation(file, implementation, index));
  const results = json.results.map((result, index) => readResult(file, result, index));
  const unlabelled = results.find((result) => !implementations.some((implementation) => implementation.label === result.impl));
  if (unlabelled !== undefined) throw new GateReportError(`${file}: results name implementation '${unlabelled.impl}', which 'implementations' does not list`);
  const targets = json.targets.map((target, index) => readTarget(file, target, index));
  const plan = readPlan(file, json.plan);
  const shard = readShard(file, json.shard);
  return {
    seed: json.seed,
    partial: json.partial === true,
    implementations,
    results,
    targets,
    ...(typeof json.wall_s === "number" ? { wall_s: json.wall_s } : {}),
    ...(plan ? { plan } : {}),
    ...(shard ? { shard } : {}),
    strictKnown: json.strictKnown === true,
    malformed: readMalformed(file, json.malformed),
    replaced: readReplaced(file, json.replaced),
  };
}
