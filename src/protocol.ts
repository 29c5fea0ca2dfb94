/**
 * The driver line protocol (docs/protocol.md): encoding of cases and
 * strict parsing of what an implementation answers. Every parse error is a
 * ProtocolError whose message says what was wrong and where, in one line.
 */
import type { Architecture } from "./architectures.ts";
import { signalNumber, type SignalName } from "./signals.ts";
import type { SpawnCase, ResolvedPaths } from "./spawn-case.ts";

export const PROTOCOL_VERSION = 1;

export class ProtocolError extends Error {
  constructor(what: string, public readonly line: string) {
    super(`${what} in ${JSON.stringify(line.length > 120 ? `${line.slice(0, 120)}...` : line)}`);
    this.name = "ProtocolError";
  }
}

/** Runs this long or longer are sent as "*<count>;" when the driver has repeat_runs. */
const shortestRun = 16;

/**
 * A file name as Node gives it (its bytes decoded as UTF-8) as the byte
 * string the case's items carry (one char per byte): a fixture or exec
 * target under a home or TMPDIR named in any script reaches the driver as
 * the bytes the kernel knows it by, and a child's reported cwd, decoded
 * byte for byte, compares equal to it.
 */
export function fileNameBytes(name: string): string {
  return Buffer.from(name, "utf8").toString("latin1");
}

/** A string as an item: "x" and its bytes in hex; with repeatRuns, a run of one byte is "<byte>*<more>;". */
export function encodeItem(text: string, repeatRuns = false): string {
  const bytes = Buffer.from(text, "latin1");
  if (!repeatRuns) return `x${bytes.toString("hex")}`;
  let out = "x";
  for (let i = 0; i < bytes.length; ) {
    let end = i + 1;
    while (end < bytes.length && bytes[end] === bytes[i]) end++;
    const hex = bytes.subarray(i, i + 1).toString("hex");
    out += end - i >= shortestRun ? `${hex}*${end - i - 1};` : hex.repeat(end - i);
    i = end;
  }
  return out;
}

/** The longest run a "*<count>;" segment may give (64 Mi more bytes). */
const longestRun = 64 * 1024 * 1024;

/** An item back to its string; with repeatRuns its "*<count>;" segments too (the child's report has them). */
export function decodeItem(item: string, line: string, repeatRuns = false): string {
  const shape = repeatRuns ? /^x(?:[0-9a-f]{2}(?:\*[1-9][0-9]{0,8};)?)*$/ : /^x(?:[0-9a-f]{2})*$/;
  if (!shape.test(item)) throw new ProtocolError(`malformed item ${JSON.stringify(item.slice(0, 40))}`, line);
  if (!item.includes("*")) return Buffer.from(item.slice(1), "hex").toString("latin1");
  let out = "";
  for (const [, hex, more] of item.slice(1).matchAll(/([0-9a-f]+?)(?:\*(\d+);|$)/g)) {
    const text = Buffer.from(hex!, "hex").toString("latin1");
    if (more === undefined) {
      out += text;
      continue;
    }
    if (Number(more) > longestRun) throw new ProtocolError(`item run of ${more} bytes, more than ${longestRun}`, line);
    out += text + text.slice(-1).repeat(Number(more));
  }
  return out;
}

export function encodeList(items: readonly string[], repeatRuns = false): string {
  return items.map((item) => encodeItem(item, repeatRuns)).join(",");
}

export function decodeList(value: string, line: string, repeatRuns = false): string[] {
  return value === "" ? [] : value.split(",").map((item) => decodeItem(item, line, repeatRuns));
}

/**
 * Strings in cases are bytes: each JS char is one byte (latin1). With
 * repeatRuns (the driver's hello lists repeat_runs) long runs of one byte
 * travel shortened: the environment property's megabyte strings cross a
 * VM's serial console in a few hundred bytes.
 */
/** Signal names as a number list in the driver's numbering, ascending. */
function encodeSignals(architecture: Architecture, names: readonly SignalName[]): string {
  return names.map((name) => signalNumber(architecture, name)).sort((a, b) => a - b).join(",");
}

/** architecture: the driver's, for the numbers of the case's signals (a case with parentSignals needs it). */
export function encodeCase(id: number, spawnCase: SpawnCase, paths: ResolvedPaths, memoryBytes = spawnCase.memoryBytes, repeatRuns = false, architecture?: Architecture): string {
  const fields = [
    `id=${id}`,
    `path=${encodeItem(paths.path[spawnCase.path], repeatRuns)}`,
    `argv=${encodeList(spawnCase.argv, repeatRuns)}`,
    `env=${encodeList(spawnCase.env, repeatRuns)}`,
    `clone=${spawnCase.cloneFlags.toString(16)}`,
    `unshare=${spawnCase.unshareFlags.toString(16)}`,
    `setsid=${spawnCase.setsid ? 1 : 0}`,
    `setpgid=${spawnCase.setpgid ? 1 : 0}`,
    `fds=${spawnCase.descriptors.join(",")}`,
    `uid=${spawnCase.uidInside}`,
    `gid=${spawnCase.gidInside}`,
    `memory=${memoryBytes}`,
  ];
  if (spawnCase.reportDescriptor !== undefined) fields.push(`report_fd=${spawnCase.reportDescriptor}`);
  // Only to a driver whose hello lists parent_fds: the arbitraries draw them for no other.
  if (spawnCase.parentDescriptors?.length) fields.push(`parent_fds=${spawnCase.parentDescriptors.join(",")}`);
  if (spawnCase.signalStorm) fields.push("storm=1");
  if (spawnCase.pidfd) fields.push("pidfd=1");
  if (spawnCase.clone3) fields.push("clone3=1");
  if (spawnCase.parentSignals) {
    if (!architecture) throw new Error("encodeCase: a case with a parent signal state needs the driver's architecture");
    const { blocked, ignored, handled } = spawnCase.parentSignals;
    fields.push(`sigmask=${encodeSignals(architecture, blocked)}`, `sigignore=${encodeSignals(architecture, ignored)}`, `sighandle=${encodeSignals(architecture, handled)}`);
  }
  // Only with a handler to install; the arbitraries draw handlerFlags only for a driver whose hello lists handler_flags.
  if (spawnCase.handlerFlags && (spawnCase.signalStorm || spawnCase.parentSignals)) fields.push(`handler_flags=${spawnCase.handlerFlags.join(",")}`);
  if (spawnCase.concurrentSpawns) {
    const spawns = spawnCase.concurrentSpawns.map((spawn) => `${encodeItem(paths.path[spawn.path], repeatRuns)}/${spawn.descriptors.join(",")}`);
    fields.push(`threads=${spawns.length}`, `thread_spawns=${spawns.join(";")}`);
    if (spawnCase.rounds !== undefined) fields.push(`rounds=${spawnCase.rounds}`);
    if (spawnCase.plainForks !== undefined) fields.push(`fork_thread=${spawnCase.plainForks}`, `fork_path=${encodeItem(paths.path["exec-target"], repeatRuns)}`);
  }
  if (spawnCase.cwd !== "none") fields.push(`cwd=${encodeItem(paths.directory[spawnCase.cwd], repeatRuns)}`);
  if (spawnCase.entry !== undefined) fields.push(`entry=${spawnCase.entry}`);
  return `case ${fields.join(" ")}`;
}

type Fields = Map<string, string>;

function parseFields(line: string, keyword: string): Fields {
  const tokens = line.split(" ");
  if (tokens[0] !== keyword) throw new ProtocolError(`expected '${keyword}'`, line);
  const fields: Fields = new Map();
  for (const token of tokens.slice(1)) {
    const eq = token.indexOf("=");
    if (eq <= 0) throw new ProtocolError(`field without '=' (${JSON.stringify(token.slice(0, 40))})`, line);
    fields.set(token.slice(0, eq), token.slice(eq + 1));
  }
  return fields;
}

function required(fields: Fields, key: string, line: string): string {
  const value = fields.get(key);
  if (value === undefined) throw new ProtocolError(`missing field '${key}'`, line);
  return value;
}

function integer(fields: Fields, key: string, line: string): number {
  const value = required(fields, key, line);
  if (!/^-?\d+$/.test(value)) throw new ProtocolError(`field '${key}' is not an integer`, line);
  return Number(value);
}

function bit(fields: Fields, key: string, line: string): boolean {
  const value = required(fields, key, line);
  if (value !== "0" && value !== "1") throw new ProtocolError(`field '${key}' is not 0 or 1`, line);
  return value === "1";
}

function requiredIntegerList(fields: Fields, key: string, line: string): number[] {
  required(fields, key, line);
  return integerList(fields, key, line);
}

function integerList(fields: Fields, key: string, line: string): number[] {
  const value = fields.get(key) ?? "";
  if (value === "") return [];
  if (!/^\d+(,\d+)*$/.test(value)) throw new ProtocolError(`field '${key}' is not a list of integers`, line);
  return value.split(",").map(Number);
}

export interface Hello {
  protocol: number;
  impl: string;
  arch: string;
  pid: number;
  euid: number;
  egid: number;
  pgid: number;
  sid: number;
  cwd: string;
  inheritedDescriptors: number[];
  reportDescriptor: number;
  features: string[];
  /** What the implementation promises the exec'd program's signal state is (docs/protocol.md, hello). */
  signalContract: SignalContract;
  /** Signals (its numbers) whose disposition the implementation keeps for itself: a case never ignores or handles them. */
  signalsKept: number[];
  /** How a child step's errno reaches the parent (hello errno_channel); absent: not said, judged everywhere. */
  errnoChannel?: ErrnoChannel;
  /** The runtime's spawn functions the driver can call (entry_points); empty or absent: it has one, unnamed. */
  entryPoints?: string[];
  /** entry_features: an entry point that honours only some of the case dimensions of `features`; one not listed honours them all. */
  entryFeatures?: Record<string, string[]>;
  /** entry_errno_channels: how a child step's errno reaches the parent on each entry point, where the paths differ. */
  entryErrnoChannels?: Record<string, ErrnoChannel>;
  /** entry_signals_defaulted: signals (its numbers) an entry point sets to SIG_DFL in the child whatever the parent had (CPython's restore_signals). */
  entrySignalsDefaulted?: Record<string, number[]>;
}

/**
 * pipe: the child writes it into a close-on-exec pipe the parent reads
 * (the reference, Go, musl). shared_memory: the child stores it in memory
 * it shares with the parent through CLONE_VM (glibc's posix_spawn).
 */
export const errnoChannels = ["pipe", "shared_memory"] as const;
export type ErrnoChannel = (typeof errnoChannels)[number];

/**
 * posix: the mask at the spawn is inherited, ignored signals stay ignored,
 * handled ones are back to SIG_DFL (execve's rules; posix_spawn without
 * attributes). reset_all: every signal unblocked and at SIG_DFL (libuv's).
 */
export const signalContracts = ["posix", "reset_all"] as const;
export type SignalContract = (typeof signalContracts)[number];

/** The case dimensions an implementation declares it honours (docs/protocol.md, hello). */
export const caseFeatures = ["clone_flags", "unshare_flags", "id_maps", "setsid", "setpgid", "cwd", "fds", "memory", "raw_strings"] as const;

export function parseHello(line: string): Hello {
  const fields = parseFields(line, "hello");
  const protocol = integer(fields, "protocol", line);
  if (protocol !== PROTOCOL_VERSION) throw new ProtocolError(`protocol version ${protocol}, expected ${PROTOCOL_VERSION}`, line);
  return {
    protocol,
    impl: required(fields, "impl", line),
    arch: required(fields, "arch", line),
    pid: integer(fields, "pid", line),
    euid: integer(fields, "euid", line),
    egid: integer(fields, "egid", line),
    pgid: integer(fields, "pgid", line),
    sid: integer(fields, "sid", line),
    cwd: decodeItem(required(fields, "cwd", line), line),
    inheritedDescriptors: integerList(fields, "inherited_fds", line),
    reportDescriptor: integer(fields, "report_fd", line),
    // A hello without the field makes no exceptions: every case dimension is asked for.
    features: fields.has("features") ? fields.get("features")!.split(",").filter(Boolean) : [...caseFeatures],
    signalContract: parseSignalContract(fields.get("signal_contract") ?? "posix", line),
    signalsKept: integerList(fields, "signals_kept", line),
    entryPoints: parseEntryPoints(fields.get("entry_points") ?? "", line),
    ...(fields.has("errno_channel") ? { errnoChannel: parseErrnoChannel(fields.get("errno_channel")!, line) } : {}),
    ...entryFields(fields, line),
  };
}

/**
 * The per-entry fields: `name:value` items joined by ',', each name one of
 * entry_points and listed once, a value's parts joined by '+'
 * (`os_posix_spawn:setsid+fds,popen_posix_spawn:fds`).
 */
function entryFields(fields: Fields, line: string): Pick<Hello, "entryFeatures" | "entryErrnoChannels" | "entrySignalsDefaulted"> {
  const entries = parseEntryPoints(fields.get("entry_points") ?? "", line);
  const perEntry = <T>(key: string, parse: (value: string) => T): Record<string, T> | undefined => {
    const text = fields.get(key);
    if (text === undefined) return undefined;
    const map: Record<string, T> = {};
    for (const item of text === "" ? [] : text.split(",")) {
      const colon = item.indexOf(":");
      const name = colon < 0 ? item : item.slice(0, colon);
      if (!entries.includes(name)) throw new ProtocolError(`${key}: '${name.slice(0, 40)}' is not one of entry_points`, line);
      if (colon < 0) throw new ProtocolError(`${key}: '${item.slice(0, 40)}' is not NAME:VALUE`, line);
      if (name in map) throw new ProtocolError(`${key}: ${name} is listed twice`, line);
      map[name] = parse(item.slice(colon + 1));
    }
    return map;
  };
  const parts = (value: string) => (value === "" ? [] : value.split("+"));
  const entryFeatures = perEntry("entry_features", parts);
  const entryErrnoChannels = perEntry("entry_errno_channels", (value) => parseErrnoChannel(value, line));
  const entrySignalsDefaulted = perEntry("entry_signals_defaulted", (value) => {
    if (!/^(\d+(\+\d+)*)?$/.test(value)) throw new ProtocolError(`entry_signals_defaulted: '${value.slice(0, 40)}' is not signal numbers joined by '+'`, line);
    return parts(value).map(Number);
  });
  return {
    ...(entryFeatures ? { entryFeatures } : {}),
    ...(entryErrnoChannels ? { entryErrnoChannels } : {}),
    ...(entrySignalsDefaulted ? { entrySignalsDefaulted } : {}),
  };
}

/** The case features an entry point honours: its entry_features where listed, else the hello's. */
export function entryPointFeatures(hello: Hello, entry: string | undefined): readonly string[] {
  return (entry !== undefined && hello.entryFeatures?.[entry]) || hello.features;
}

/** How a child step's errno reaches the parent on this entry point: its own channel where listed, else the hello's. */
export function entryPointErrnoChannel(hello: Hello, entry: string | undefined): ErrnoChannel | undefined {
  return (entry !== undefined && hello.entryErrnoChannels?.[entry]) || hello.errnoChannel;
}

function parseErrnoChannel(value: string, line: string): ErrnoChannel {
  const channel = errnoChannels.find((name) => name === value);
  if (!channel) throw new ProtocolError(`unknown errno_channel '${value.slice(0, 40)}' (expected ${errnoChannels.join(" or ")})`, line);
  return channel;
}

/** "fork_exec,start_process": names of lowercase letters, digits and '_', each once. */
function parseEntryPoints(value: string, line: string): string[] {
  if (value === "") return [];
  const names = value.split(",");
  const bad = names.find((name) => !/^[a-z][a-z0-9_]*$/.test(name));
  if (bad !== undefined) throw new ProtocolError(`entry_points: '${bad.slice(0, 40)}' is not a name (a-z, 0-9, _)`, line);
  if (new Set(names).size !== names.length) throw new ProtocolError("entry_points: a name is listed twice", line);
  return names;
}

function parseSignalContract(value: string, line: string): SignalContract {
  const contract = signalContracts.find((name) => name === value);
  if (!contract) throw new ProtocolError(`unknown signal_contract '${value.slice(0, 40)}' (expected ${signalContracts.join(" or ")})`, line);
  return contract;
}

export interface ChildReport {
  argv: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  euid: number;
  egid: number;
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  descriptors: number[];
  /** What each descriptor above 2 links to in /proc/self/fd ("" when readlink failed); absent from an older exec target's report. */
  descriptorLinks?: Record<number, string>;
  /** The exec'd program's signal state, in the exec target's numbering. */
  signals: ChildSignals;
}

export interface ChildSignals {
  blocked: number[];
  ignored: number[];
  /** With a handler installed: none after an exec, whatever the parent had. */
  caught: number[];
}

/** fd_links: one item per descriptor of fds above 2, in the same order. */
function parseDescriptorLinks(fields: Fields, descriptors: number[], line: string): Pick<ChildReport, "descriptorLinks"> {
  const value = fields.get("fd_links");
  if (value === undefined) return {};
  const described = descriptors.filter((fd) => fd > 2);
  // An empty item is "x": an empty value is an empty list, never one empty link.
  const links = decodeList(value, line, true);
  if (links.length !== described.length) throw new ProtocolError(`${links.length} items in 'fd_links' for ${described.length} descriptors above 2 in 'fds'`, line);
  return { descriptorLinks: Object.fromEntries(described.map((fd, index) => [fd, links[index]!])) };
}

export function parseChildReport(line: string): ChildReport {
  const fields = parseFields(line, "child");
  const cwd = required(fields, "cwd", line);
  if (!/^([0-9a-f]{2})*$/.test(cwd)) throw new ProtocolError("field 'cwd' is not hex", line);
  const descriptors = integerList(fields, "fds", line);
  return {
    // The exec target is always the reference build (native/child.c): its lists use runs.
    argv: decodeList(required(fields, "argv", line), line, true),
    env: decodeList(required(fields, "env", line), line, true),
    cwd: Buffer.from(cwd, "hex").toString("latin1"),
    uid: integer(fields, "uid", line),
    gid: integer(fields, "gid", line),
    euid: integer(fields, "euid", line),
    egid: integer(fields, "egid", line),
    pid: integer(fields, "pid", line),
    ppid: integer(fields, "ppid", line),
    pgid: integer(fields, "pgid", line),
    sid: integer(fields, "sid", line),
    descriptors,
    ...parseDescriptorLinks(fields, descriptors, line),
    signals: {
      blocked: requiredIntegerList(fields, "sigmask", line),
      ignored: requiredIntegerList(fields, "sigignore", line),
      caught: requiredIntegerList(fields, "sighandle", line),
    },
  };
}

export type ChildStatus = { exited: number } | { signaled: number };

/** What one spawn's caller got: the fields of a result that are one spawn's. */
export interface SpawnOutcome {
  outcome: "spawned" | "error";
  errno: number;
  pid: number;
  waited: boolean;
  status?: ChildStatus;
  report?: ChildReport;
  reportError?: string;
}

export interface CaseResult {
  id: number;
  outcome: "spawned" | "error";
  errno: number;
  pid: number;
  /** The pid the driver reaped was the pid the spawn returned. */
  waited: boolean;
  status?: ChildStatus;
  suspended: "yes" | "no" | "unknown";
  report?: ChildReport;
  /** outcome=error without an errno (errno=0): what the runtime raised instead (CPython's SubprocessError). */
  raised?: string;
  /** The raw child report, when it did not parse (the child crashed, say). */
  reportError?: string;
  zombies: number;
  liveChildren: number;
  leakedDescriptors: number;
  stackCanaries: "ok" | "damaged";
  registerCanaries: string;
  /**
   * With storm=1: times a handler of the parent's ran in another process,
   * "failed" (no storm process), or "unobserved" (the storm ran but the
   * driver cannot count handler runs in other processes).
   */
  storm?: number | "failed" | "unobserved";
  /** A concurrent case (threads=N): every spawn's outcome, round by round, in the case's order within a round (the fields above are the first's). */
  threadOutcomes?: SpawnOutcome[];
  /** With fork_thread=F: each plain fork's outcome, in the order they were made. */
  forkOutcomes?: SpawnOutcome[];
  /** With pidfd=1 and a spawned child: what the driver found the returned pidfd to be. */
  pidfd?: PidfdReport;
  /** With pidfd=1: pidfds open in the parent after the case (once the driver closed the one it got) that were not before it. */
  leakedPidfds?: number;
  /** After a failed spawn: what its pid output holds (a driver presets an out-parameter to OUTPUT_PRESET), or "none" where the runtime hands back no value at all. */
  failedPid?: number | "none";
  /** With pidfd=1, after a failed spawn: what its pidfd output holds (preset to OUTPUT_PRESET). */
  failedPidfd?: FailedPidfd;
}

/**
 * What a driver stores in a spawn's output variables before the spawn, so
 * that "left untouched" shows: no spawn writes it (not a descriptor, not a
 * pid, not the -1 of "none").
 */
export const OUTPUT_PRESET = -2;

/** What the descriptor number a failed spawn handed back is, looked at right after the spawn returned. */
export const returnedDescriptorStates = ["closed", "pidfd", "other"] as const;
export type ReturnedDescriptorState = (typeof returnedDescriptorStates)[number];

export interface FailedPidfd {
  value: number;
  /** With value >= 0: not open, open and a pidfd, or open and something else. */
  is?: ReturnedDescriptorState;
}

export interface PidfdReport {
  /** The "Pid:" of the pidfd's /proc/self/fdinfo entry, before the reap; -1: no pidfd (or not one). */
  pid: number;
  /** What waitid(P_PIDFD) reaped: si_pid, or -errno. */
  reaped: number;
}

/** An `error` line: the implementation refused what it was sent (a protocol error, not a failed spawn). */
function throwIfRefused(line: string, what: string): void {
  if (!line.startsWith("error ")) return;
  const fields = parseFields(line, "error");
  const reason = Buffer.from(fields.get("reason") ?? "", "hex").toString("latin1");
  throw new ProtocolError(`the implementation refused ${what} ${fields.get("id")}: ${reason}`, line);
}

export function parseResult(line: string): CaseResult {
  throwIfRefused(line, "case");
  const fields = parseFields(line, "result");
  const outcome = required(fields, "outcome", line);
  if (outcome !== "spawned" && outcome !== "error") throw new ProtocolError(`unknown outcome '${outcome}'`, line);
  const result: CaseResult = {
    id: integer(fields, "id", line),
    outcome,
    errno: outcome === "error" ? integer(fields, "errno", line) : 0,
    pid: outcome === "spawned" ? integer(fields, "pid", line) : 0,
    waited: fields.get("waited") === "1",
    suspended: "unknown",
    zombies: integer(fields, "zombies", line),
    liveChildren: integer(fields, "live_children", line),
    leakedDescriptors: integer(fields, "leaked_fds", line),
    stackCanaries: required(fields, "stack_canaries", line) === "ok" ? "ok" : "damaged",
    registerCanaries: required(fields, "register_canaries", line),
  };
  const storm = fields.get("storm");
  if (storm !== undefined) {
    if (storm !== "failed" && storm !== "unobserved" && !/^\d+$/.test(storm)) throw new ProtocolError("malformed field 'storm' (a count, failed or unobserved)", line);
    result.storm = storm === "failed" || storm === "unobserved" ? storm : Number(storm);
  }
  if (fields.has("leaked_pidfds")) result.leakedPidfds = integer(fields, "leaked_pidfds", line);
  if (fields.has("raised")) {
    if (outcome !== "error" || result.errno !== 0) throw new ProtocolError("field 'raised' is only for outcome=error errno=0", line);
    result.raised = decodeItem(fields.get("raised")!, line);
  }
  Object.assign(result, parseFailedOutputs(fields, outcome, line));
  if (outcome === "spawned" && fields.has("pidfd_pid")) result.pidfd = { pid: integer(fields, "pidfd_pid", line), reaped: integer(fields, "pidfd_reaped", line) };
  if (outcome === "spawned") {
    result.status = parseStatus(required(fields, "status", line), line);
    const suspended = required(fields, "suspended", line);
    if (suspended !== "yes" && suspended !== "no" && suspended !== "unknown") throw new ProtocolError("malformed field 'suspended'", line);
    result.suspended = suspended;
    Object.assign(result, parseReport(required(fields, "report", line), line));
  }
  const threadOutcomes = fields.get("thread_outcomes");
  if (threadOutcomes !== undefined) result.threadOutcomes = threadOutcomes.split(";").map((entry) => parseSpawnOutcome(entry, line));
  const forkOutcomes = fields.get("fork_outcomes");
  if (forkOutcomes !== undefined) result.forkOutcomes = forkOutcomes.split(";").map((entry) => parseSpawnOutcome(entry, line));
  return result;
}

/** failed_pid, failed_pidfd and failed_pidfd_is: only after a failure, the state only with a descriptor number. */
function parseFailedOutputs(fields: Fields, outcome: CaseResult["outcome"], line: string): Pick<CaseResult, "failedPid" | "failedPidfd"> {
  const names = ["failed_pid", "failed_pidfd", "failed_pidfd_is"].filter((name) => fields.has(name));
  if (!names.length) return {};
  if (outcome !== "error") throw new ProtocolError(`field '${names[0]}' in a result with outcome=${outcome} (sent after a failed spawn only)`, line);
  const out: Pick<CaseResult, "failedPid" | "failedPidfd"> = {};
  if (fields.has("failed_pid")) out.failedPid = fields.get("failed_pid") === "none" ? "none" : integer(fields, "failed_pid", line);
  const state = fields.get("failed_pidfd_is");
  if (!fields.has("failed_pidfd")) {
    if (state !== undefined) throw new ProtocolError("field 'failed_pidfd_is' without 'failed_pidfd'", line);
    return out;
  }
  const value = integer(fields, "failed_pidfd", line);
  if (value < 0) {
    if (state !== undefined) throw new ProtocolError(`field 'failed_pidfd_is' with failed_pidfd=${value}, not a descriptor number`, line);
    out.failedPidfd = { value };
    return out;
  }
  const is = returnedDescriptorStates.find((name) => name === state);
  if (!is) throw new ProtocolError(state === undefined ? "missing field 'failed_pidfd_is' (failed_pidfd is a descriptor number)" : `unknown failed_pidfd_is '${state.slice(0, 40)}' (expected ${returnedDescriptorStates.join(", ")})`, line);
  out.failedPidfd = { value, is };
  return out;
}

function parseStatus(status: string, line: string): ChildStatus {
  const match = /^(exited|signaled):(\d+)$/.exec(status);
  if (!match) throw new ProtocolError("malformed field 'status'", line);
  return match[1] === "exited" ? { exited: Number(match[2]) } : { signaled: Number(match[2]) };
}

/** The child's report item: parsed, or why not (a report that does not parse is the child's failure, not the driver's). */
function parseReport(item: string, line: string): Pick<SpawnOutcome, "report" | "reportError"> {
  const reportText = decodeItem(item, line);
  if (reportText === "") return { reportError: "the child wrote no report" };
  try {
    return { report: parseChildReport(reportText) };
  } catch (error) {
    return { reportError: (error as Error).message };
  }
}

/** A thread_outcomes entry: "spawned/<pid>/<waited>/<status>/<report item>" or "error/<errno>". */
function parseSpawnOutcome(entry: string, line: string): SpawnOutcome {
  const error = /^error\/(\d+)$/.exec(entry);
  if (error) return { outcome: "error", errno: Number(error[1]), pid: 0, waited: false };
  const spawned = /^spawned\/(\d+)\/([01])\/([a-z]+:\d+)\/(x[0-9a-f]*)$/.exec(entry);
  if (!spawned) throw new ProtocolError(`malformed thread_outcomes entry ${JSON.stringify(entry.slice(0, 40))}`, line);
  return { outcome: "spawned", errno: 0, pid: Number(spawned[1]), waited: spawned[2] === "1", status: parseStatus(spawned[3]!, line), ...parseReport(spawned[4]!, line) };
}

export interface Capabilities {
  arch: string;
  vforkSharesMemory: boolean;
  parentSuspended: boolean;
  kcmp: boolean;
  /** 0 when clone3 exists (the probe's NULL argument fails with EINVAL/EFAULT). */
  clone3Errno: number;
  pageSize: number;
  /** Longest argument or environment string execve takes, with its NUL (32 pages of the exec's kernel). */
  maxArgumentString: number;
  /** RLIMIT_STACK in bytes, -1 for unlimited. */
  stackLimit: number;
  euid: number;
  /** errno per namespace (probe key): 0 when allowed. */
  cloneErrno: Record<string, number>;
  vforkErrno: Record<string, number>;
  unshareErrno: Record<string, number>;
  /** How this target answers a request for a pidfd (0: works): clone(CLONE_PIDFD) fork-style, and clone3 with CLONE_VM|CLONE_VFORK|CLONE_PIDFD. Absent from an older probe. */
  pidfdErrno?: { clone: number; clone3: number };
  /** Whether an 8-byte load and store 4 past an 8-byte boundary completes (in hardware or fixed up by the kernel) rather than trapping: false under qemu-user's mips, which delivers SIGBUS where a MIPS kernel emulates the access. Absent from an older probe. */
  unalignedFixup?: boolean;
}

export function parseCapabilities(line: string): Capabilities {
  const fields = parseFields(line, "caps");
  const byPrefix = (prefix: string): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const key of fields.keys()) if (key.startsWith(prefix)) out[key.slice(prefix.length)] = integer(fields, key, line);
    return out;
  };
  return {
    arch: required(fields, "arch", line),
    vforkSharesMemory: integer(fields, "vfork_shares_memory", line) === 1,
    parentSuspended: integer(fields, "parent_suspended", line) === 1,
    kcmp: integer(fields, "kcmp", line) === 1,
    clone3Errno: integer(fields, "clone3", line),
    pageSize: integer(fields, "page_size", line),
    maxArgumentString: integer(fields, "max_arg_strlen", line),
    stackLimit: integer(fields, "stack_limit", line),
    euid: integer(fields, "euid", line),
    cloneErrno: byPrefix("clone_"),
    vforkErrno: byPrefix("vfork_"),
    unshareErrno: byPrefix("unshare_"),
    ...(fields.has("pidfd_clone") ? { pidfdErrno: { clone: integer(fields, "pidfd_clone", line), clone3: integer(fields, "pidfd_clone3", line) } } : {}),
    ...(fields.has("unaligned_fixup") ? { unalignedFixup: bit(fields, "unaligned_fixup", line) } : {}),
  };
}

/** A `bench` line: time `spawns` spawns of `path --exit` with `memoryBytes` held (docs/protocol.md). */
export interface BenchRequest {
  id: number;
  /** A file name as Node gives it. */
  path: string;
  memoryBytes: number;
  spawns: number;
  /** The reference only: force the fork fallback (the benchmark's baseline). */
  forceFork: boolean;
}

export function encodeBench(request: BenchRequest): string {
  const fork = request.forceFork ? " fork=1" : "";
  return `bench id=${request.id} path=${encodeItem(fileNameBytes(request.path))} memory=${request.memoryBytes} spawns=${request.spawns}${fork}`;
}

/** A `timings` answer: one latency per spawn, or why the batch could not run. */
export type BenchTimings = { id: number; nanoseconds: number[] } | { id: number; failure: string };

export function parseTimings(line: string): BenchTimings {
  throwIfRefused(line, "bench line");
  const fields = parseFields(line, "timings");
  const id = integer(fields, "id", line);
  const failure = fields.get("failure");
  if (failure !== undefined) return { id, failure: decodeItem(failure, line) };
  const nanoseconds = integerList(fields, "ns", line);
  if (!nanoseconds.length) throw new ProtocolError("neither 'ns' nor 'failure'", line);
  return { id, nanoseconds };
}
