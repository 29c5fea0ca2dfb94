/**
 * Comparisons shared by the properties: each returns the list of ways a
 * case run differs from what must happen (empty: as it must).
 */
import { expectClonePath, expectOutcome, expectSignalState, type Expected } from "./oracle.ts";
import { parentStateSignals, signalName, type SignalName } from "./signals.ts";
import { isFastPathClone } from "./observer.ts";
import { CLONE_VFORK, CLONE_VM, describeCloneWord } from "./flags.ts";
import { sigchldOf, type Architecture } from "./architectures.ts";
import type { SpawnCase } from "./spawn-case.ts";
import { OUTPUT_PRESET, type CaseResult, type ChildReport, type ChildStatus, type Capabilities } from "./protocol.ts";
import type { ObservedCase } from "./observer.ts";
import type { OracleContext } from "./oracle.ts";
import { errnoText } from "./errno.ts";

/** What a property sees of a target: no side effects reachable from here. */
export interface TargetView {
  name: string;
  oracle: OracleContext;
  capabilities: Capabilities;
  errnoName(value: number): string;
}

export interface Run {
  result?: CaseResult;
  failure?: string;
  observed?: ObservedCase;
}

export function expected(spawnCase: SpawnCase, target: TargetView): Expected {
  return expectOutcome(spawnCase, target.oracle, (value) => target.errnoName(value));
}

/** The run finished (no hang, no dead driver) and the driver answered. */
export function finished(run: Run): run is Run & { result: CaseResult } {
  return run.result !== undefined;
}

export function checkFinished(run: Run): string[] {
  return finished(run) ? [] : [run.failure ?? "no result"];
}

function compareChild(report: ChildReport, child: Extract<Expected, { kind: "spawned" }>["child"], result: CaseResult, parentHeld: readonly number[]): string[] {
  const problems: string[] = [];
  const resolve = (value: number | "spawned") => (value === "spawned" ? result.pid : value);
  const same = (what: string, actual: unknown, wanted: unknown) => {
    if (JSON.stringify(actual) !== JSON.stringify(wanted)) problems.push(`child ${what}: got ${short(actual)}, expected ${short(wanted)}`);
  };
  same("argv", report.argv, child.argv);
  same("environment", report.env, child.env);
  same("cwd", report.cwd, child.cwd);
  same("uid", report.uid, child.uid);
  same("gid", report.gid, child.gid);
  same("pid", report.pid, resolve(child.pid));
  same("ppid", report.ppid, child.ppid);
  same("pgid", report.pgid, resolve(child.pgid));
  same("sid", report.sid, resolve(child.sid));
  problems.push(...compareDescriptors(report, child.descriptors, parentHeld));
  return problems;
}

/**
 * The child's open descriptors against the expected ones. Each one too many
 * is named with what it links to (the report's fd_links), so a leak says
 * whose descriptor it is ("descriptor 9 (/proc/4321/uid_map)"). The list
 * comes last, in brackets, so a pattern written for the shorter text
 * ("expected \[.*\]$") still matches. A descriptor the case had the
 * parent hold that the child lacks is named too: something in the spawn
 * took its number (Go's nextfd).
 */
function compareDescriptors(report: ChildReport, wanted: readonly number[], parentHeld: readonly number[]): string[] {
  if (JSON.stringify(report.descriptors) === JSON.stringify(wanted)) return [];
  const text = `child open descriptors: got ${short(report.descriptors)}, expected ${short(wanted)}`;
  const lost = parentHeld.filter((fd) => !report.descriptors.includes(fd));
  const lostText = lost.length ? `, lost [${lost.map((fd) => `descriptor ${fd} (the parent's, not close-on-exec)`).join(", ")}]` : "";
  const links = report.descriptorLinks;
  const extra = report.descriptors.filter((fd) => !wanted.includes(fd));
  if (!links || !extra.length) return [`${text}${lostText}`];
  const named = extra.map((fd) => (links[fd] === undefined ? `descriptor ${fd}` : `descriptor ${fd} (${links[fd] || "readlink failed"})`));
  return [`${text}${lostText}, unexpected [${named.join(", ")}]`];
}

function short(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 160 ? `${text.slice(0, 160)}...(${text.length} chars)` : text;
}

/** The outcome (errno, or the child's whole view) is what the oracle says, and a failure hands back no pid. */
export function checkOutcome(spawnCase: SpawnCase, run: Run, target: TargetView): string[] {
  if (!finished(run)) return checkFinished(run);
  return [...compareOutcome(spawnCase, run, target), ...checkFailedPid(run)];
}

function compareOutcome(spawnCase: SpawnCase, run: Run & { result: CaseResult }, target: TargetView): string[] {
  const want = expected(spawnCase, target);
  const result = run.result;
  if (want.kind === "error") {
    if (result.outcome !== "error") {
      // An errno passed back through memory the child shares with the parent is lost where vfork is a fork (qemu-user).
      const why = target.capabilities.vforkSharesMemory
        ? ""
        : ` (this target's vfork does not share memory, as the probe measured: an implementation that passes the child's errno back through shared memory, as glibc's posix_spawn does, loses it here)`;
      return [`spawn succeeded (pid ${result.pid}); expected ${want.errno} from ${want.step}${why}`];
    }
    const accepted = [want.errno, ...(want.alsoAccepted ?? [])];
    if (result.raised !== undefined) return [`spawn failed without an errno, raising ${result.raised}; expected ${accepted.join(" or ")} from ${want.step}`];
    const got = target.errnoName(result.errno);
    return accepted.includes(got) ? [] : [`spawn failed with ${errnoText(got, result.errno)}, expected ${accepted.join(" or ")} from ${want.step}`];
  }
  if (result.outcome === "error") return [`spawn failed ${result.raised !== undefined ? `without an errno, raising ${result.raised}` : `with ${errnoText(target.errnoName(result.errno), result.errno)}`}; expected success`];
  if (!result.report) return [`the child's report is missing: ${result.reportError ?? "?"}`];
  return compareChild(result.report, want.child, result, spawnCase.parentDescriptors ?? []);
}

/**
 * After a failed spawn its pid output holds no pid (docs/protocol.md, "What
 * a failed spawn hands back"): the caller's value untouched, 0 or -1, or no
 * value at all. A positive number is a pid the caller may signal or wait
 * for: the dead child's is reaped already, so it names whatever process
 * gets that pid next.
 */
export function checkFailedPid(run: Run): string[] {
  const result = run.result;
  if (result?.outcome !== "error" || result.failedPid === undefined) return [];
  const pid = result.failedPid;
  if (pid === "none" || pid === OUTPUT_PRESET || pid === 0 || pid === -1) return [];
  const ofChild = run.observed?.clones.some((clone) => clone.result === pid) ? ", the pid of the child it cloned and reaped" : "";
  return [`the failed spawn handed back pid ${pid}${ofChild}; a failed spawn hands back no pid (the caller's ${OUTPUT_PRESET} untouched, 0 or -1)`];
}

/** The parent came back whole: canaries, the right pid reaped, nothing left over. */
export function checkParentIntact(run: Run, target: TargetView): string[] {
  if (!finished(run)) return checkFinished(run);
  return [...checkLeftovers(run.result), ...checkSpawnReaped(run, target)];
}

/** What the case as a whole left: canaries intact, no zombie, no live child, no leaked descriptor. */
export function checkLeftovers(r: CaseResult): string[] {
  const problems: string[] = [];
  if (r.stackCanaries !== "ok") problems.push("stack canaries above the spawn's frame were overwritten");
  if (r.registerCanaries !== "ok") problems.push(`callee-saved registers changed across the spawn (mask ${r.registerCanaries})`);
  if (r.zombies) problems.push(`${r.zombies} zombie child(ren) left after the spawn`);
  if (r.liveChildren) problems.push("a child is still running after the spawn returned");
  if (r.leakedDescriptors) problems.push(`${r.leakedDescriptors} descriptor(s) leaked in the parent`);
  return problems;
}

/** How a child ended, its signal by the target's name: "exit 3", "killed by SIGSEGV", "no status". */
function describeStatus(status: ChildStatus | undefined, architecture: Architecture): string {
  if (!status) return "no status";
  if ("exited" in status) return `exit ${status.exited}`;
  return `killed by ${signalName(architecture, status.signaled) ?? `signal ${status.signaled}`}`;
}

/** A spawned child: the parent reaped the pid it got, the child exited 0, and the parent was suspended until its exec. */
export function checkSpawnReaped(run: Run, target: TargetView): string[] {
  if (!finished(run) || run.result.outcome !== "spawned") return checkChildReaped(run, target);
  return [...checkChildReaped(run, target), ...checkSuspendedUntilRelease(run.result.pid, run, target)];
}

/** A child, spawned or forked, was the parent's to reap and exited 0 (nothing about its parent's suspension). */
export function checkChildReaped(run: Run, target: TargetView): string[] {
  if (!finished(run)) return checkFinished(run);
  const r = run.result;
  if (r.outcome !== "spawned") return [];
  const problems: string[] = [];
  if (!r.waited) problems.push(`the returned pid ${r.pid} was not a child the parent could reap`);
  if (!r.status || !("exited" in r.status) || r.status.exited !== 0) problems.push(`the child did not exit 0 (${describeStatus(r.status, target.oracle.architecture)})`);
  return problems;
}

/**
 * A parent that shares its memory with the child (CLONE_VM) must not come
 * back from the clone before the child's exec or exit. Judged from the
 * observer's order of events, not from the driver: the kernel wakes a vfork
 * parent in exec_mmap before it installs the child's new memory, so a kcmp
 * the driver makes after the spawn returned can find the memory still
 * shared while the child is inside a successful exec (see ReleaseEvidence).
 * Skipped where the probe measured no suspension (qemu-user: vfork is a
 * fork there) and where the observer cannot order events (qemu -strace).
 */
function checkSuspendedUntilRelease(pid: number, run: Run, target: TargetView): string[] {
  if (!target.capabilities.parentSuspended) return [];
  if (!run.observed?.complete) return ["the observer lost this case's events: whether the parent was suspended until the child's exec or exit is unknown"];
  const clone = run.observed.clones.find((c) => c.result === pid);
  if (!clone) return [`the observer saw no clone return pid ${pid}: whether the parent was suspended until the child's exec or exit is unknown`];
  if ((clone.flags & CLONE_VM) === 0 || clone.releasedBy !== "nothing") return [];
  return [
    `the parent's clone (CLONE_VM${clone.flags & CLONE_VFORK ? "|CLONE_VFORK" : " without CLONE_VFORK"}) returned pid ${pid} before the child's exec or exit, as the observer ordered them (${target.oracle.tier === "system" ? "no PTRACE_EVENT_VFORK_DONE" : "strace saw no execve or exit of the child before the return"}): the parent ran on while the child still shared its memory (not suspended until exec)`,
  ];
}

/** The clone the observer saw took the path the rule demands. */
export function checkClonePath(spawnCase: SpawnCase, run: Run, target: TargetView): string[] {
  if (!finished(run)) return checkFinished(run);
  const want = expectClonePath(spawnCase);
  if (!run.observed) return ["the observer recorded nothing for this case"];
  if (!run.observed.complete) return ["the observer lost this case's start marker: its clones are unknown"];
  const clones = run.observed.clones;
  if (clones.length !== 1) return [`the observer saw ${clones.length} clone calls, expected 1`];
  // Without SIGCHLD as its exit signal the child is a "clone child" that
  // wait4 without __WALL does not see (until it execs): a failed exec is unreapable.
  const exitSignal = clones[0]!.flags & 0xff;
  const sigchld = sigchldOf(target.oracle.architecture);
  if (exitSignal !== sigchld) return [`observed clone exit signal ${signalName(target.oracle.architecture, exitSignal) ?? exitSignal}, expected SIGCHLD`];
  const fast = isFastPathClone(clones[0]!.flags);
  const wantFast = want.fastPath && (!probesVfork(target) || target.capabilities.vforkSharesMemory);
  const why = want.fastPath && !wantFast ? `${target.oracle.hello.impl} probes vfork and forks where it does not share memory, as the target's probe measured (vfork_shares_memory=0)` : want.why;
  if (fast !== wantFast)
    return [`observed clone flags ${describeCloneWord(clones[0]!.flags, target.oracle.architecture)} ${fast ? "take" : "do not take"} the CLONE_VM|CLONE_VFORK path; expected ${wantFast ? "the fast path" : "the fork fallback"} (${why})`];
  return [];
}

/**
 * The implementation takes the fast path only where its own one-time vfork
 * probe finds shared memory (libuv from 1.53: under qemu-user it forks),
 * as the suite's probe measures the target: hello's `fast_path_probed`.
 */
function probesVfork(target: TargetView): boolean {
  return target.oracle.hello.features.includes("fast_path_probed");
}

/**
 * The hello claims a clone path the observer can hold it to: `fast_path`,
 * or `fast_path_probed` where vfork shares memory. Where it does not
 * (qemu-user) such an implementation forks, as one claiming nothing does,
 * and qemu-user's -strace of a forking multithreaded guest (Node's) drops
 * lines, case markers among them (measured with libuv 1.53 under
 * qemu-arm 7.2): its record would judge the emulator, not the fork.
 */
export function claimsClonePath(target: TargetView): boolean {
  return target.oracle.hello.features.includes("fast_path") || (probesVfork(target) && target.capabilities.vforkSharesMemory);
}

/** The exec'd program's mask and dispositions are what the oracle says for the parent's signal state at the spawn. */
export function checkSignalState(spawnCase: SpawnCase, run: Run, target: TargetView): string[] {
  if (!finished(run)) return checkFinished(run);
  if (!spawnCase.parentSignals) return ["the case sets no parent signal state"];
  const report = run.result.report;
  if (run.result.outcome !== "spawned" || !report) return []; // checkOutcome says what went wrong
  const numbering = target.oracle.reportArchitecture ?? target.oracle.architecture;
  const names = (numbers: number[]) => new Set(numbers.map((value) => signalName(numbering, value) ?? `signal ${value}`));
  const blocked = names(report.signals.blocked);
  const ignored = names(report.signals.ignored);
  const defaulted = (spawnCase.entry !== undefined ? target.oracle.hello.entrySignalsDefaulted?.[spawnCase.entry] : undefined) ?? [];
  const want = expectSignalState(spawnCase.parentSignals, target.oracle.hello.signalContract, defaulted.flatMap((value) => signalName(target.oracle.architecture, value) ?? []));
  const problems: string[] = [];
  const list = (signals: string[]) => signals.join(",");
  const extraBlocked = parentStateSignals.filter((signal) => blocked.has(signal) && !want.blocked.includes(signal));
  const missingBlocked = want.blocked.filter((signal) => !blocked.has(signal));
  if (extraBlocked.length) problems.push(`the exec'd program has ${list(extraBlocked)} blocked, expected unblocked (${want.rule})`);
  if (missingBlocked.length) problems.push(`the exec'd program has ${list(missingBlocked)} unblocked, expected blocked (${want.rule})`);
  if (report.signals.caught.length) problems.push(`the exec'd program has handlers for ${list([...names(report.signals.caught)])}: execve resets every handler to SIG_DFL`);
  const decided = Object.entries(want.dispositions) as [SignalName, "ignored" | "default"][];
  const notIgnored = decided.filter(([signal, disposition]) => disposition === "ignored" && !ignored.has(signal)).map(([signal]) => signal);
  const stillIgnored = decided.filter(([signal, disposition]) => disposition === "default" && ignored.has(signal)).map(([signal]) => signal);
  if (notIgnored.length) problems.push(`the exec'd program has ${list(notIgnored)} at SIG_DFL, expected ignored (${want.rule})`);
  if (stillIgnored.length) problems.push(`the exec'd program ignores ${list(stillIgnored)}, expected SIG_DFL (${want.rule})`);
  return problems;
}
