/** A long-lived driver process, natively under strace or under qemu-user -strace, behind the protocol. */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { readFileSync } from "node:fs";
import { CaseTimes } from "../../src/case-deadline.ts";
import { alignmentTrapSkipReason } from "../../src/alignment-trap.ts";
import { errnoName } from "../../src/errno.ts";
import type { OracleContext } from "../../src/oracle.ts";
import { ObserverLog, parseObserverLine } from "../../src/observer.ts";
import { encodeCase, parseHello, parseResult, ProtocolError, type Capabilities, type Hello } from "../../src/protocol.ts";
import type { SpawnCase } from "../../src/spawn-case.ts";
import type { Fixtures } from "../build/fixtures.ts";
import { TargetUnavailableError, type DriverCommand } from "../implementations/adapter.ts";
import { descendantsOf, killProcessTree } from "../process/process-tree.ts";
import { containedCommand, describeExit } from "./containment.ts";
import { LineChannel, LineTooLongError } from "./line-channel.ts";
import { caseDeadlineMs, hostCommand, nextCaseId, oracleContext, qemuCommand, targetName, userlandOverlays, type CaseRun, type Target, type TargetSpec } from "./target.ts";

/**
 * What strace shows the observer: the clones, the markers, and the child's exec and exit, whose order against the parent's clone return tells whether the parent was suspended (src/observer.ts).
 * ftruncate64 (a Node driver's marker on 386 and arm) is a name of the 32-bit personalities only: strace on amd64 takes it, as it takes any name one of its personalities has.
 */
export const straceTraceSet = "trace=clone,clone3,vfork,lseek,_llseek,ftruncate,ftruncate64,execve,execveat,exit,exit_group";

/** How many of a driver's last stderr lines before its hello are kept: Go's traceback under qemu -strace runs to a few thousand. */
const stderrLinesKept = 20_000;
/** How often a case that has not answered checks that its driver is still there (answerWhileDriverLives). */
const driverCheckIntervalMs = 1000;

/**
 * A driver that neither answered a case nor made its start marker within
 * withinMs never began it: it is not running the cases it is sent (it closed
 * its standard output, or stopped reading), and no spawn hung.
 */
export function notRunningCasesError(withinMs: number, caseLine: string, detail = ""): ProtocolError {
  return new ProtocolError(`no answer and no start marker within ${(withinMs / 1000).toFixed(0)} s: the driver did not begin the case (did it stop reading its input, or close its standard output?)${detail}; the case`, caseLine);
}

export class DriverTarget implements Target {
  readonly name: string;
  readonly caseDeadlineMs: number;
  readonly caseTimes = new CaseTimes();
  hello!: Hello;
  oracle!: OracleContext;
  private child!: ChildProcessWithoutNullStreams;
  private answers!: LineChannel;
  private observer!: ObserverLog;
  /** Resolves once the driver's process (its containment's first) has exited and its pipes closed. */
  private exited!: Promise<void>;
  private stderrTail = "";
  /** Every stderr line until the hello (the last stderrLinesKept), for what killed a driver that never said it. */
  private stderrBeforeHello: string[] | undefined;
  /** The last case whose start marker the observer printed. */
  private startedCase: number | undefined;

  constructor(
    readonly spec: TargetSpec,
    readonly capabilities: Capabilities,
    readonly fixtures: Fixtures,
    private readonly driver: DriverCommand,
    readonly maxMemoryBytes: number,
  ) {
    this.name = targetName(spec);
    this.caseDeadlineMs = caseDeadlineMs(spec);
  }

  errnoName(value: number): string {
    return errnoName(this.spec.architecture, value);
  }

  async start(): Promise<void> {
    const observerArgs = ["-f", "--seccomp-bpf", "-qq", "-e", straceTraceSet, "-e", "signal=none", "--"];
    this.stderrTail = "";
    this.startedCase = undefined;
    const stderrBeforeHello: string[] = (this.stderrBeforeHello = []);
    const { program, args: driverArgs } = this.driver;
    const [command, args] = await containedCommand(
      ...(this.spec.tier === "host"
        ? (["strace", [...observerArgs, ...hostCommand(program, driverArgs, this.driver.userland, this.driver.libraryPath)]] as [string, string[]])
        : qemuCommand(this.spec, program, driverArgs, true, this.driver.userland, this.driver.libraryPath)),
      this.spec.tier === "host" ? userlandOverlays(this.driver) : [],
    );
    this.child = spawn(command, args, { cwd: this.driver.cwd ?? this.fixtures.fixturesDirectory, env: this.driver.env ?? {}, stdio: ["pipe", "pipe", "pipe"] });
    this.child.on("error", () => {});
    this.child.stdin.on("error", () => {});
    this.observer = new ObserverLog();
    new LineChannel(this.child.stderr, (line) => {
      this.observer.addLine(line);
      const marker = parseObserverLine(line).marker;
      if (marker && !marker.end) this.startedCase = marker.id;
      if (this.stderrBeforeHello === stderrBeforeHello && stderrBeforeHello.push(line) > stderrLinesKept) stderrBeforeHello.splice(0, stderrLinesKept / 2);
      // strace's own trace lines are not the driver's or strace's last word.
      if (!/^(\d+\s|\[pid\s|<\.\.\.|[a-z_0-9]+\()/.test(line)) this.stderrTail = line;
    });
    this.answers = new LineChannel(this.child.stdout);
    const child = this.child;
    this.exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
    const first = await this.nextAnswer(this.caseDeadlineMs, "hello");
    if (first === "timeout") {
      this.stop();
      throw new Error(`the driver did not say hello within ${this.caseDeadlineMs / 1000} s`);
    }
    if (first === undefined) {
      // It ended before its hello: say how (a crash is the implementation's failure, exit 1),
      // unless qemu-user's alignment trap killed it where a kernel would have fixed the access up:
      // a skip with that reason. Natively the kernel is the real one, its trap no emulator's.
      const ended = await this.endedBy();
      const alignmentTrap =
        this.spec.tier === "user"
          ? alignmentTrapSkipReason({ ended, stderrLines: stderrBeforeHello, unalignedFixup: this.capabilities.unalignedFixup, emulator: this.spec.architecture.qemuUser, architecture: this.spec.architecture.name })
          : undefined;
      if (alignmentTrap !== undefined) throw new TargetUnavailableError(alignmentTrap);
      throw new Error(`the driver ${ended.startsWith("signal") ? "crashed" : "exited"} during hello (${ended})${this.stderrTail ? `; last stderr line: ${this.stderrTail}` : ""}`);
    }
    this.stderrBeforeHello = undefined;
    try {
      this.hello = parseHello(first);
    } catch (error) {
      this.stop();
      throw error;
    }
    this.oracle = oracleContext(this.spec, this.capabilities, this.hello, this.fixtures);
  }

  /**
   * The driver's containment as it stands: the processes that are neither
   * the observer's tree (strace, or qemu, with the driver below it) nor above
   * it, which the driver started and left behind (a setsid'd helper), each
   * "pid command"; and whether the driver is gone (strace has no child left,
   * while a helper it traces keeps it running).
   */
  private driverTree(): { strays: string[]; driverGone: boolean } {
    const root = this.child.pid;
    if (root === undefined) return { strays: [], driverGone: false };
    const all = descendantsOf(root);
    const observer = all.find((pid) => /^(strace|qemu-)/.test(readProcText(pid, "comm")));
    if (observer === undefined) return { strays: [], driverGone: false };
    const observed = descendantsOf(observer);
    const kept = new Set([root, observer, ...observed]);
    for (let pid = observer; pid !== root && pid > 1; ) {
      kept.add(pid);
      pid = Number(/^\d+ \(.*\) \S (\d+)/s.exec(readProcText(pid, "stat"))?.[1] ?? root);
    }
    const strays = all.filter((pid) => !kept.has(pid)).map((pid) => `${pid} ${readProcText(pid, "cmdline").replaceAll("\0", " ").trim().slice(0, 100)}`);
    return { strays, driverGone: readProcText(observer, "comm").startsWith("strace") && observed.length === 0 && strays.length > 0 };
  }

  private stop(): void {
    if (this.child.pid !== undefined) killProcessTree(this.child.pid);
  }

  /**
   * How the driver ended, once its output did: strace's own line says which
   * signal killed it; else the exit status (waited for up to 5 s, then killed).
   */
  private async endedBy(): Promise<string> {
    await Promise.race([this.exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
    this.stop();
    const killed = /^\+\+\+ killed by (SIG\w+)/.exec(this.stderrTail);
    return killed ? `signal ${killed[1]}` : describeExit(this.child.exitCode, this.child.signalCode);
  }

  /** The driver's next line; one past the protocol's length limit kills it and is a malformed answer, at once. */
  private async nextAnswer(timeoutMs: number, what: string): Promise<string | undefined | "timeout"> {
    try {
      return await this.answers.next(timeoutMs);
    } catch (error) {
      if (!(error instanceof LineTooLongError)) throw error;
      this.stop();
      throw new ProtocolError(`${what} longer than ${error.limit} bytes (the protocol's line limit)`, error.head);
    }
  }

  /**
   * The case's answer, "timeout" at the deadline, or "timeout" as soon as the
   * driver is gone while a process it left running keeps its standard output
   * open: no end of its output will come, so waiting out the deadline (15 s
   * on the host, each shrink step again) would say nothing more. Checked
   * once a second, so a case that answers in time costs no check.
   */
  private async answerWhileDriverLives(timeoutMs: number): Promise<string | undefined | "timeout"> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      const answer = await this.nextAnswer(Math.min(left, driverCheckIntervalMs), "answer");
      if (answer !== "timeout" || left <= driverCheckIntervalMs || this.driverTree().driverGone) return answer;
    }
  }

  async runCase(spawnCase: SpawnCase, deadlineMs = this.caseDeadlineMs, observerRetries = 1): Promise<CaseRun> {
    const id = nextCaseId();
    const line = encodeCase(id, spawnCase, this.fixtures, spawnCase.memoryBytes, this.hello.features.includes("repeat_runs"), this.spec.architecture);
    const started = Date.now();
    this.child.stdin.write(`${line}\n`);
    const answer = await this.answerWhileDriverLives(deadlineMs + spawnCase.memoryBytes / 1e6);
    const elapsedMs = Date.now() - started;
    // No start marker either: the driver never began the case, so no spawn hung. It is not running the cases it is
    // sent, and every later case would cost a deadline too: a malformed answer, which stops the target now.
    const tree = answer === "timeout" ? this.driverTree() : undefined;
    if (tree && this.startedCase !== id && !tree.driverGone) {
      const strays = tree.strays;
      this.stop();
      const left = strays.length ? `; killed with it: ${strays.length} process${strays.length === 1 ? "" : "es"} it had left running outside its own tree (${strays.join("; ")})` : "";
      throw notRunningCasesError(deadlineMs, line, left);
    }
    if (answer === "timeout" || answer === undefined) {
      const failure =
        tree?.driverGone
          ? // A process it left running holds its standard output open: no end of its output, only strace's empty tree.
            `the driver died during the case (a process it left running kept its standard output open: ${tree.strays.join("; ")})`
          : answer === "timeout"
          ? `no answer within ${deadlineMs / 1000} s${deadlineMs < this.caseDeadlineMs ? " (the shrink deadline)" : ""}: the spawn hung (child and driver killed)`
          : `the driver died during the case (${await this.endedBy()}${this.stderrTail ? `; last stderr line: ${this.stderrTail}` : ""})`;
      // strace itself can fail (seen: PTRACE_LISTEN answering EIO while a
      // traced child stops under the signal storm) and take the driver with
      // it. That is the observer's failure, not the implementation's: run
      // the case again, once, on a fresh driver.
      const observerFailed = answer === undefined && /^strace: /.test(this.stderrTail);
      this.stop();
      await this.start();
      if (observerFailed && observerRetries > 0) return this.runCase(spawnCase, deadlineMs, observerRetries - 1);
      return { id, line, failure };
    }
    let result;
    try {
      result = parseResult(answer);
      if (result.id !== id) throw new ProtocolError(`answer for case ${result.id}, expected ${id}`, answer);
    } catch (error) {
      this.stop();
      throw error;
    }
    return { id, line, result, observed: await this.observer.take(id, 5000), elapsedMs };
  }

  async close(): Promise<void> {
    this.child.stdin.end();
    // A driver gone while a process it left running is still traced: strace would wait for that one, so stop now.
    const check = setInterval(() => this.driverTree().driverGone && this.stop(), 200);
    this.exited.finally(() => clearInterval(check));
    const timer = setTimeout(() => this.stop(), 5000);
    await this.exited;
    clearTimeout(timer);
    this.fixtures.remove();
  }
}

/** /proc/<pid>/<name>, or "" once the process is gone. */
function readProcText(pid: number, name: string): string {
  try {
    return readFileSync(`/proc/${pid}/${name}`, "latin1");
  } catch {
    return "";
  }
}
