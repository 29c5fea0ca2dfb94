/**
 * Known findings: bugs of an implementation that the gate has already found
 * and whose root cause is understood, kept in a JSON file (`--known FILE`,
 * or the implementation's own, impls/<name>/known-findings.json). A case
 * whose problems a finding explains in full is counted as `known` instead
 * of failing its property, so the search goes on for other bugs; each
 * finding's reproducer tells, deterministically, whether it still happens
 * (`known`) or no longer does (`fixed`). Pure: parsing, validation,
 * matching and classification; running cases is the harness's.
 */
import { parseFlags } from "./flags.ts";
import { caseWithFlagNames, describeCase, directoryKinds, pathKinds, type ConcurrentSpawn, type SpawnCase } from "./spawn-case.ts";
import { handlerFlags, signalNames, type HandlerFlag, type ParentSignalState, type SignalName } from "./signals.ts";
import { JsonFieldReader, type Json } from "./json-fields.ts";
import { linearRegExp } from "./linear-regexp.ts";
import { brokenExitCode } from "./broken.ts";

/** What a failing case must look like for a finding to explain it. */
export interface FailureMatcher {
  /** Regular expressions: every problem the property reported must match one of them. */
  problems: RegExp[];
  /** The spawn's outcome as the implementation reported it. */
  outcome?: "error" | "spawned";
  /** With outcome "error": the reported errno is one of these names. */
  errno?: string[];
  /** The step the oracle says fails for the case: clone, unshare, setpgid, chdir, execve. */
  step?: string[];
  /** Flags the case must carry: in cloneFlags, in unshareFlags, in either. */
  cloneFlags?: number;
  unshareFlags?: number;
  cloneOrUnshareFlags?: number[];
  /** The case's entry point is one of these (a driver with entry_points): a bug of one spawn function, or of one parent state. */
  entry?: string[];
}

export interface KnownFinding {
  id: string;
  /** The implementation's name, as --impl takes it ("go", "glibc", ...). */
  implementation: string;
  /** A glob (`*` any run of characters, `?` one) over the implementation's version, e.g. "go1.19*". */
  version: string;
  /** Globs over "<arch>/<tier>", e.g. "*\/user", "amd64/host". */
  targets: string[];
  properties: string[];
  match: FailureMatcher;
  rootCause: string;
  /** A link or a source reference (file and line in the affected release). */
  source: string;
  /** A case that shows the bug on every target the finding names, run once per target and property. */
  reproducer: SpawnCase;
  /** A race's reproducer, which one case hits only sometimes: it runs until it fails, at most this many times (default 1). */
  attempts?: number;
}

/** One case's failure, as the matcher sees it. */
export interface CaseEvidence {
  spawnCase: SpawnCase;
  problems: readonly string[];
  /** Absent when the case did not finish (deadline, dead driver). */
  outcome?: "error" | "spawned";
  errno?: string;
  /** The step the oracle expects to fail (src/oracle.ts), when it expects an error. */
  expectedStep?: string;
}

/** Where a run is: what a finding's implementation, version, targets and properties are compared with. */
export interface FindingScope {
  implementation: string;
  version: string;
  /** "<arch>/<tier>". */
  target: string;
  property: string;
}

export class KnownFindingsError extends Error {}

/** What the file may name, from the run's own tables (for the error messages too). */
export interface KnownNames {
  implementations: readonly string[];
  properties: readonly string[];
}

/** Each glob compiled once: a run asks for every finding's globs on every target and property. */
const globExpressions = new Map<string, RegExp>();

/** A glob's expression, in linear time too: `*` runs would backtrack polynomially ("*a*a*a*a*"), and globs are the user's. */
function globExpression(glob: string): RegExp {
  let expression = globExpressions.get(glob);
  if (expression === undefined) {
    const escaped = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*+/g, ".*").replace(/\?/g, ".");
    const compiled = linearRegExp(`^${escaped}$`);
    // Escaped, with only .* and . added, a glob has nothing the linear engine lacks.
    if (!(compiled instanceof RegExp)) throw new Error(`glob '${glob}': ${compiled.refused}`);
    globExpressions.set(glob, (expression = compiled));
  }
  return expression;
}

export function globMatches(glob: string, text: string): boolean {
  return globExpression(glob).test(text);
}

/** The findings that apply to this implementation, version, target and property. */
export function findingsFor(findings: readonly KnownFinding[], scope: FindingScope): KnownFinding[] {
  return findingCandidates(findings, scope)
    .filter((candidate) => candidate.matched === "version")
    .map((candidate) => candidate.finding);
}

/**
 * How a finding came to apply: its version glob names the implementation's
 * version, or (a version no finding of the file names, such as a `devel`
 * Go) its reproducer, run on the target before the search, still fails the
 * way the finding describes.
 */
export type FindingMatch = "version" | "reproducer";

/**
 * Whether the file names this version in any of the implementation's
 * findings. When it does, the file speaks for that version and only its
 * version globs apply: a Go 1.24 fork that brings back a bug the file
 * filed for Go 1.22 is red for it, not `known` by the 1.22 entry's
 * reproducer. Only a version the file knows nothing of (a build of
 * master) is matched by reproducers.
 */
export function versionNamed(findings: readonly KnownFinding[], implementation: string, version: string): boolean {
  return findings.some((finding) => finding.implementation === implementation && globMatches(finding.version, version));
}

/**
 * The findings for this implementation, target and property, each with how
 * it may apply: "version" when its glob names the version; "reproducer"
 * when no finding of the file names the version (versionNamed), so that it
 * applies only if its reproducer shows it (reproducerStatus "known"); one
 * that shows neither does not apply, and is not "fixed" either: the version
 * it was filed for is not the one run.
 */
export function findingCandidates(findings: readonly KnownFinding[], scope: FindingScope): { finding: KnownFinding; matched: FindingMatch }[] {
  const named = versionNamed(findings, scope.implementation, scope.version);
  return findings
    .filter((finding) => finding.implementation === scope.implementation && finding.targets.some((target) => globMatches(target, scope.target)) && finding.properties.includes(scope.property))
    .map((finding) => ({ finding, matched: (globMatches(finding.version, scope.version) ? "version" : "reproducer") as FindingMatch }))
    .filter((candidate) => !named || candidate.matched === "version");
}

const hasAll = (mask: number, wanted: number) => (mask & wanted) >>> 0 === wanted;

/** The finding explains this case: its shape matches and every problem is one the finding describes. */
export function explains(finding: KnownFinding, evidence: CaseEvidence): boolean {
  const { match } = finding;
  const { spawnCase } = evidence;
  if (evidence.problems.length === 0) return false;
  if (!evidence.problems.every((problem) => match.problems.some((pattern) => pattern.test(problem)))) return false;
  if (match.outcome !== undefined && evidence.outcome !== match.outcome) return false;
  if (match.errno !== undefined && (evidence.errno === undefined || !match.errno.includes(evidence.errno))) return false;
  if (match.step !== undefined && (evidence.expectedStep === undefined || !match.step.includes(evidence.expectedStep))) return false;
  if (match.cloneFlags !== undefined && !hasAll(spawnCase.cloneFlags, match.cloneFlags)) return false;
  if (match.unshareFlags !== undefined && !hasAll(spawnCase.unshareFlags, match.unshareFlags)) return false;
  if (match.cloneOrUnshareFlags !== undefined && !match.cloneOrUnshareFlags.every((flag) => hasAll(spawnCase.cloneFlags | spawnCase.unshareFlags, flag))) return false;
  if (match.entry !== undefined && (spawnCase.entry === undefined || !match.entry.includes(spawnCase.entry))) return false;
  return true;
}

/** The first of these findings that explains the case alone, if any. */
export function explainingFinding(findings: readonly KnownFinding[], evidence: CaseEvidence): KnownFinding | undefined {
  return findings.find((finding) => explains(finding, evidence));
}

/**
 * A finding on one target: `known` (its reproducer still fails as it
 * describes), `fixed` (the reproducer passes now) or `fail` (the
 * reproducer fails in a way the finding does not explain).
 */
export type FindingStatus = "known" | "fixed" | "fail";

export function reproducerStatus(finding: KnownFinding, evidence: CaseEvidence): FindingStatus {
  if (evidence.problems.length === 0) return "fixed";
  return explains(finding, evidence) ? "known" : "fail";
}

export type PropertyStatus = "pass" | "fail" | "known" | "fixed" | "baseline";

/**
 * A property's status on a target, the first that holds: `fail` when
 * anything that neither a finding nor the baseline explains failed; `fixed`
 * when a finding's reproducer passes now (the file must drop it, and
 * --strict-known fails the run for it, so no other status may cover it);
 * `baseline` when the baseline (--baseline) failed some cases the same way
 * (upstream bugs no finding files yet: said before `known`, which is
 * upstream's too but already filed); `known` when a finding explained a case
 * or its reproducer; else `pass`.
 */
export function propertyStatus(unexplainedFailure: boolean, findings: readonly FindingStatus[], baselineShared = false): PropertyStatus {
  if (unexplainedFailure || findings.includes("fail")) return "fail";
  if (findings.includes("fixed")) return "fixed";
  if (baselineShared) return "baseline";
  return findings.includes("known") ? "known" : "pass";
}

/**
 * Exit code of a gate from its statuses: 1 when something failed (a real
 * failure wins over a fault of the machine), else 3 (brokenExitCode) when
 * something could not be tested, else 1 for a fixed finding under
 * --strict-known, else 0: `known` and `baseline` pass.
 */
export function knownAwareExitCode(statuses: readonly string[], strictKnown: boolean): 0 | 1 | typeof brokenExitCode {
  if (statuses.includes("fail")) return 1;
  if (statuses.includes("broken")) return brokenExitCode;
  return strictKnown && statuses.includes("fixed") ? 1 : 0;
}

// ---- parsing and validation: one line naming the file and the entry ----

/** The oracle's step names (src/oracle.ts). */
const steps = ["clone", "unshare", "setpgid", "chdir", "execve"];


const findingFields = ["id", "implementation", "version", "targets", "properties", "match", "rootCause", "source", "reproducer"] as const;
const matchFields = ["problems", "outcome", "errno", "step", "cloneFlags", "unshareFlags", "cloneOrUnshareFlags", "entry"] as const;
const caseFields = ["path", "argv", "env", "cwd", "cloneFlags", "unshareFlags", "setsid", "setpgid", "descriptors", "uidInside", "gidInside", "memoryBytes", "signalStorm"] as const;

class EntryReader extends JsonFieldReader {
  constructor(where: string) {
    super(where, (message) => new KnownFindingsError(message));
  }

  /** A mask as flag names ("CLONE_NEWUSER|CLONE_NEWNS|CLONE_FS") or a number. */
  flags(value: Json | undefined, what: string): number {
    if (typeof value === "number") return this.integer(value, what, 0) >>> 0;
    const mask = parseFlags(this.text(value, what));
    if (mask === undefined) this.fail(`'${what}': '${String(value)}' is not a list of clone flags (CLONE_NEW*, CLONE_FS, joined by |)`);
    return mask;
  }

  /** A problem pattern, for the linear-time engine (src/linear-regexp.ts): a match ends in bounded time. */
  pattern(value: Json | undefined, what: string): RegExp {
    const source = this.text(value, what);
    const compiled = linearRegExp(source);
    if (!(compiled instanceof RegExp)) this.fail(`'${what}': '${source}' is ${compiled.refused}`);
    return compiled;
  }
}

function readMatch(reader: EntryReader, value: Json | undefined): FailureMatcher {
  const match = reader.object(value, "'match'", matchFields);
  if (!Array.isArray(match.problems) || match.problems.length === 0) reader.fail("'match.problems' must be a non-empty list of regular expressions");
  const matcher: FailureMatcher = { problems: match.problems.map((pattern) => reader.pattern(pattern, "match.problems")) };
  if (match.outcome !== undefined) {
    if (match.outcome !== "error" && match.outcome !== "spawned") reader.fail("'match.outcome' must be \"error\" or \"spawned\"");
    matcher.outcome = match.outcome;
  }
  if (match.errno !== undefined) {
    matcher.errno = reader.texts(match.errno, "match.errno");
    if (matcher.errno.some((name) => !/^E[A-Z0-9]+$/.test(name))) reader.fail("'match.errno' must name errnos (ENOENT, EINVAL, ...)");
    if (matcher.outcome !== "error") reader.fail("'match.errno' needs \"outcome\": \"error\"");
  }
  if (match.step !== undefined) matcher.step = reader.texts(match.step, "match.step", steps);
  if (match.cloneFlags !== undefined) matcher.cloneFlags = reader.flags(match.cloneFlags, "match.cloneFlags");
  if (match.unshareFlags !== undefined) matcher.unshareFlags = reader.flags(match.unshareFlags, "match.unshareFlags");
  if (match.cloneOrUnshareFlags !== undefined) matcher.cloneOrUnshareFlags = reader.texts(match.cloneOrUnshareFlags, "match.cloneOrUnshareFlags").map((flag) => reader.flags(flag, "match.cloneOrUnshareFlags"));
  if (match.entry !== undefined) {
    matcher.entry = reader.texts(match.entry, "match.entry");
    if (matcher.entry.some((name) => !/^[a-z0-9_]+$/.test(name))) reader.fail("'match.entry' must name entry points (a-z, 0-9, _)");
  }
  return matcher;
}

/** A reproducer's parentSignals: three lists of signal names (each may be empty). */
function readSignalState(reader: EntryReader, value: Json | undefined): ParentSignalState {
  const state = reader.object(value, "'reproducer.parentSignals'", ["blocked", "ignored", "handled"], true);
  const names = (what: "blocked" | "ignored" | "handled") => {
    const list = state[what];
    if (!Array.isArray(list) || list.some((name) => !(signalNames as readonly Json[]).includes(name))) reader.fail(`'reproducer.parentSignals.${what}' must be a list of signal names (${signalNames.join(",")})`);
    return list as SignalName[];
  };
  return { blocked: names("blocked"), ignored: names("ignored"), handled: names("handled") };
}

/** A reproducer's handlerFlags: a list of flag names, possibly empty (handlers without SA_RESTART). */
function readHandlerFlags(reader: EntryReader, value: Json | undefined): HandlerFlag[] {
  if (Array.isArray(value) && value.length === 0) return [];
  return reader.texts(value, "reproducer.handlerFlags", handlerFlags) as HandlerFlag[];
}

function readPathKind(reader: EntryReader, value: Json | undefined, what: string): SpawnCase["path"] {
  const path = reader.text(value, what);
  if (!(pathKinds as readonly string[]).includes(path)) reader.fail(`'${what}': unknown '${path}' (known: ${pathKinds.join(",")})`);
  return path as SpawnCase["path"];
}

function readDescriptors(reader: EntryReader, value: Json | undefined, what: string): number[] {
  if (!Array.isArray(value)) reader.fail(`'${what}' must be a list of descriptor numbers`);
  return value.map((descriptor) => reader.integer(descriptor, what, 3));
}

function readConcurrentSpawns(reader: EntryReader, value: Json | undefined): ConcurrentSpawn[] {
  return reader.list(value, "reproducer.concurrentSpawns", true).map((spawn) => {
    const fields = reader.object(spawn, "'reproducer.concurrentSpawns' entry", ["path", "descriptors"], true);
    return { path: readPathKind(reader, fields.path, "reproducer.concurrentSpawns.path"), descriptors: readDescriptors(reader, fields.descriptors, "reproducer.concurrentSpawns.descriptors") };
  });
}

/** The optional fields of a case, beside caseFields: what a reproducer may carry when the case had them. */
const optionalCaseFields = ["reportDescriptor", "parentDescriptors", "parentSignals", "handlerFlags", "entry", "pidfd", "clone3", "concurrentSpawns", "rounds", "plainForks"] as const;

function readCase(reader: EntryReader, value: Json | undefined): SpawnCase {
  const fields = reader.object(value, "'reproducer'", [...caseFields, ...optionalCaseFields]);
  const missing = caseFields.find((field) => fields[field] === undefined);
  if (missing !== undefined) reader.fail(`'reproducer' lacks '${missing}' (a whole case: ${caseFields.join(",")})`);
  const strings = (what: string) => {
    const list = fields[what];
    if (!Array.isArray(list) || list.some((item) => typeof item !== "string")) reader.fail(`'reproducer.${what}' must be a list of strings`);
    return list as string[];
  };
  const cwd = reader.text(fields.cwd, "reproducer.cwd");
  if (!(directoryKinds as readonly string[]).includes(cwd)) reader.fail(`'reproducer.cwd': unknown '${cwd}' (known: ${directoryKinds.join(",")})`);
  return {
    path: readPathKind(reader, fields.path, "reproducer.path"),
    argv: strings("argv"),
    env: strings("env"),
    cwd: cwd as SpawnCase["cwd"],
    cloneFlags: reader.flags(fields.cloneFlags, "reproducer.cloneFlags"),
    unshareFlags: reader.flags(fields.unshareFlags, "reproducer.unshareFlags"),
    setsid: reader.boolean(fields.setsid, "reproducer.setsid"),
    setpgid: reader.boolean(fields.setpgid, "reproducer.setpgid"),
    descriptors: readDescriptors(reader, fields.descriptors, "reproducer.descriptors"),
    uidInside: reader.integer(fields.uidInside, "reproducer.uidInside", 0),
    gidInside: reader.integer(fields.gidInside, "reproducer.gidInside", 0),
    memoryBytes: reader.integer(fields.memoryBytes, "reproducer.memoryBytes", 0),
    signalStorm: reader.boolean(fields.signalStorm, "reproducer.signalStorm"),
    ...(fields.entry === undefined ? {} : { entry: reader.text(fields.entry, "reproducer.entry") }),
    ...(fields.pidfd === undefined ? {} : { pidfd: reader.boolean(fields.pidfd, "reproducer.pidfd") }),
    ...(fields.reportDescriptor === undefined ? {} : { reportDescriptor: reader.integer(fields.reportDescriptor, "reproducer.reportDescriptor", 3) }),
    ...(fields.parentDescriptors === undefined ? {} : { parentDescriptors: readDescriptors(reader, fields.parentDescriptors, "reproducer.parentDescriptors") }),
    ...(fields.parentSignals === undefined ? {} : { parentSignals: readSignalState(reader, fields.parentSignals) }),
    ...(fields.handlerFlags === undefined ? {} : { handlerFlags: readHandlerFlags(reader, fields.handlerFlags) }),
    ...(fields.clone3 === undefined ? {} : { clone3: reader.boolean(fields.clone3, "reproducer.clone3") }),
    ...(fields.concurrentSpawns === undefined ? {} : { concurrentSpawns: readConcurrentSpawns(reader, fields.concurrentSpawns) }),
    ...(fields.rounds === undefined ? {} : { rounds: reader.integer(fields.rounds, "reproducer.rounds", 1) }),
    ...(fields.plainForks === undefined ? {} : { plainForks: reader.integer(fields.plainForks, "reproducer.plainForks", 1) }),
  };
}

/**
 * A case as a finding's reproducer writes it, which readCase reads back to
 * the same case: every field, the flag masks by name (a failure's case in
 * the gate report, and what `vforkcheck known suggest` files).
 */
export function caseAsReproducer(spawnCase: SpawnCase): Json {
  return JSON.parse(JSON.stringify(caseWithFlagNames(spawnCase))) as Json;
}

/** The most runs a race's reproducer may take (attempts): a fixed bug costs every gate all of them. */
const mostAttempts = 20;

function readFinding(value: Json, where: string, names: KnownNames): KnownFinding {
  const reader = new EntryReader(where);
  const entry = reader.object(value, "the entry", [...findingFields, "attempts"]);
  const missing = findingFields.find((field) => entry[field] === undefined);
  if (missing !== undefined) reader.fail(`lacks '${missing}'`);
  const finding: KnownFinding = {
    id: reader.text(entry.id, "id"),
    implementation: reader.text(entry.implementation, "implementation"),
    version: reader.text(entry.version, "version"),
    targets: reader.texts(entry.targets, "targets"),
    properties: reader.texts(entry.properties, "properties", names.properties),
    match: readMatch(reader, entry.match),
    rootCause: reader.text(entry.rootCause, "rootCause"),
    source: reader.text(entry.source, "source"),
    reproducer: readCase(reader, entry.reproducer),
  };
  if (entry.attempts !== undefined) finding.attempts = reader.integer(entry.attempts, "attempts", 1);
  if ((finding.attempts ?? 1) > mostAttempts) reader.fail(`'attempts': at most ${mostAttempts} (each runs the whole reproducer on every gate)`);
  if (!names.implementations.includes(finding.implementation)) reader.fail(`'implementation': unknown '${finding.implementation}' (known: ${names.implementations.join(",")})`);
  const badTarget = finding.targets.find((target) => !/^[a-z0-9*?]+\/[a-z*?]+$/.test(target));
  if (badTarget !== undefined) reader.fail(`'targets': '${badTarget}' is not <arch>/<tier> (globs allowed: "*/user")`);
  return finding;
}

/** U+FEFF, which editors that save "UTF-8 with BOM" put first. */
const byteOrderMark = "\uFEFF";

/**
 * The findings in a file's text: a JSON list of entries (an empty file,
 * such as /dev/null, is none). A byte order mark at the start is passed
 * over: it says only that the text is UTF-8, which JSON is anyway (RFC 8259
 * lets a parser ignore it), and JSON.parse would name it as an invisible
 * "unexpected token". Throws a one-line KnownFindingsError naming the file
 * and the entry (its index and id) at the first fault.
 */
export function parseKnownFindings(fileText: string, file: string, names: KnownNames): KnownFinding[] {
  const text = fileText.startsWith(byteOrderMark) ? fileText.slice(byteOrderMark.length) : fileText;
  if (text.trim() === "") return [];
  let json: Json;
  try {
    json = JSON.parse(text) as Json;
  } catch (error) {
    throw new KnownFindingsError(`${file}: not JSON (${(error as Error).message.split("\n")[0]})`);
  }
  if (!Array.isArray(json)) throw new KnownFindingsError(`${file}: must be a JSON list of findings`);
  const findings = json.map((entry, index) => {
    const id = entry !== null && typeof entry === "object" && !Array.isArray(entry) && typeof entry.id === "string" ? ` (id "${entry.id}")` : "";
    return readFinding(entry, `${file}: entry ${index + 1}${id}`, names);
  });
  // One pass with a map: a file of 100,000 entries costs time in proportion to its size.
  const firstEntryOf = new Map<string, number>();
  findings.forEach(({ id }, index) => {
    const first = firstEntryOf.get(id);
    if (first !== undefined) throw new KnownFindingsError(`${file}: entry ${index + 1} (id "${id}"): the id is already used by entry ${first + 1}`);
    firstEntryOf.set(id, index);
  });
  return findings;
}

/** What a report keeps of one finding on one target and property. */
export interface FindingOutcome {
  finding: string;
  status: FindingStatus;
  /** Distinct generated cases the finding explained (shrink steps included). */
  cases: number;
  /** The first such case, or null. */
  example: string | null;
  /** What the reproducer did: the problems it showed, or that it passed. */
  reproducer: string;
  /** How the finding came to apply here: its version glob, or its reproducer (a version it does not name). */
  matched: FindingMatch;
  /** The reproducer's case (the shrunk counterexample the finding was filed with), described. */
  reproducerCase: string;
  rootCause: string;
  source: string;
}

/** Counts the cases each finding explains during one property run. */
export class FindingTally {
  private readonly seen = new Map<string, Set<string>>();
  private readonly examples = new Map<string, string>();

  record(finding: KnownFinding, spawnCase: SpawnCase): void {
    const description = describeCase(spawnCase);
    let cases = this.seen.get(finding.id);
    if (cases === undefined) this.seen.set(finding.id, (cases = new Set()));
    cases.add(description);
    if (!this.examples.has(finding.id)) this.examples.set(finding.id, description);
  }

  outcome(finding: KnownFinding, reproducer: CaseEvidence, matched: FindingMatch = "version"): FindingOutcome {
    const status = reproducerStatus(finding, reproducer);
    return {
      finding: finding.id,
      status,
      cases: this.seen.get(finding.id)?.size ?? 0,
      example: this.examples.get(finding.id) ?? null,
      reproducer: reproducer.problems.length ? `${status === "known" ? "still fails" : "fails otherwise"}: ${reproducer.problems.join("; ")}` : "passes now",
      matched,
      reproducerCase: describeCase(finding.reproducer),
      rootCause: finding.rootCause,
      source: finding.source,
    };
  }
}
