/**
 * Targets: an architecture on a tier, running an implementation. Each
 * serves cases one at a time through the driver protocol, with a deadline
 * per case and an observer that does not trust the implementation.
 *
 *   host    the driver runs natively (amd64, 386), under strace
 *   user    the driver runs under qemu-<arch> -strace; its exec target is
 *           the host's amd64 build (qemu-user runs a foreign binary only
 *           through binfmt_misc, which this suite does not register)
 *   host/in-process  the amd64 spawn called inside this Node process (koffi)
 *   system  qemu-system-<arch> booting a Debian kernel, the driver served
 *           over the serial console (harness/system-target.ts)
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { architectures, type Architecture } from "../src/architectures.ts";
import { errnoName } from "../src/errno.ts";
import type { OracleContext } from "../src/oracle.ts";
import { ObserverLog, type ObservedCase } from "../src/observer.ts";
import { encodeCase, parseCapabilities, parseHello, parseResult, ProtocolError, type Capabilities, type CaseResult, type Hello } from "../src/protocol.ts";
import type { SpawnCase } from "../src/spawn-case.ts";
import { buildNative } from "./build.ts";
import { createFixtures, type Fixtures } from "./fixtures.ts";
import { LineChannel, LineTooLongError } from "./line-channel.ts";
import { containedCommand, describeExit } from "./containment.ts";
import { startSystemTarget, type SystemVariant } from "./system-target.ts";
import { driverCommand, implementationLabel, implementationOf, type DriverCommand, type ImplementationSpec } from "./implementations.ts";
import { descendantsOf, killProcessTree } from "./process-tree.ts";
import { holdInHeap } from "../impls/node/heap-memory.ts";

export type TierName = "host" | "user" | "system";
export const tierNames: readonly TierName[] = ["host", "user", "system"];

export interface TargetSpec {
  architecture: Architecture;
  tier: TierName;
  /** The in-process (koffi) target: the Node process is the parent. */
  inProcess: boolean;
  /** The implementation's name in reports: "reference", "go", "mutant:<name>", ... */
  impl: string;
  /** What serves the protocol (harness/implementations.ts); the reference when absent. */
  implementation?: ImplementationSpec;
  /** -D defines for the implementation's build (deliberate-bug variants). */
  defines: readonly string[];
  /** Per-case deadline; default: the tier's (see caseDeadlineMs). */
  caseDeadlineMs?: number;
  /** System tier, for the benchmark's breakdown only (harness/system-target.ts): init's observer off, or the console on virtio. */
  systemVariant?: SystemVariant;
}

/** "arm64/user", "amd64/host/in-process"; other implementations than the reference add theirs: "arm64/user/go". */
export function targetName(spec: TargetSpec): string {
  const implementation = spec.implementation && spec.implementation.name !== "reference" ? `/${implementationLabel(spec.implementation)}` : "";
  return `${spec.architecture.name}/${spec.tier}${spec.inProcess ? "/in-process" : ""}${implementation}`;
}

export interface CaseRun {
  id: number;
  line: string;
  result?: CaseResult;
  /** The case did not finish: the deadline passed or the driver died. */
  failure?: string;
  observed?: ObservedCase;
}

export interface Target {
  readonly spec: TargetSpec;
  readonly name: string;
  readonly hello: Hello;
  readonly capabilities: Capabilities;
  readonly fixtures: Fixtures;
  readonly oracle: OracleContext;
  /** Largest parent memory this target's cases draw. */
  readonly maxMemoryBytes: number;
  errnoName(value: number): string;
  runCase(spawnCase: SpawnCase): Promise<CaseRun>;
  close(): Promise<void>;
}

const hostArchitecture = architectures.find((a) => a.name === "amd64")!;

/** Per-case deadlines: generous, so that only a hang reaches them. */
const defaultCaseDeadlineMs: Record<TierName, number> = { host: 15_000, user: 60_000, system: 20_000 };

function caseDeadlineMs(spec: TargetSpec): number {
  return spec.caseDeadlineMs ?? defaultCaseDeadlineMs[spec.tier];
}

function qemuCommand(spec: TargetSpec, program: string, args: string[], strace: boolean): [string, string[]] {
  if (spec.tier === "host") return [program, args];
  return [spec.architecture.qemuUser, [...(strace ? ["-strace"] : []), program, ...args]];
}

/** Runs the reference build's --probe on the target (never the implementation under test). */
export async function probeCapabilities(spec: TargetSpec): Promise<Capabilities> {
  const reference = await buildNative({ arch: spec.architecture.name, kind: "static" });
  const [command, args] = await containedCommand(...qemuCommand(spec, reference, ["--probe"], false));
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], timeout: 60_000, killSignal: "SIGKILL" });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (err += chunk));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code === 0) return resolve(out);
      const ended = describeExit(code, signal);
      const stderr = err.trim().split("\n")[0] ?? "";
      reject(new Error(`the probe ${ended.startsWith("signal") ? "crashed" : "failed"} (${ended})${stderr ? `: ${stderr}` : ""}`));
    });
  });
  return parseCapabilities(output.trim());
}

function oracleContext(spec: TargetSpec, capabilities: Capabilities, hello: Hello, fixtures: Fixtures): OracleContext {
  // Under qemu-user the exec target is the host's build (see startTarget): its report numbers signals as amd64 does.
  const reportArchitecture = spec.tier === "user" ? hostArchitecture : spec.architecture;
  return { architecture: spec.architecture, reportArchitecture, capabilities, hello, tier: spec.tier, directories: fixtures.directory };
}

let nextCaseId = 1;

/** What strace shows the observer: the clones, the markers, and the child's exec and exit, whose order against the parent's clone return tells whether the parent was suspended (src/observer.ts). */
const straceTraceSet = "trace=clone,clone3,vfork,lseek,_llseek,execve,execveat,exit,exit_group";

/** A long-lived driver process (native or under qemu-user) behind the protocol. */
class DriverTarget implements Target {
  readonly name: string;
  hello!: Hello;
  oracle!: OracleContext;
  private child!: ChildProcessWithoutNullStreams;
  private answers!: LineChannel;
  private observer!: ObserverLog;
  /** Resolves once the driver's process (its containment's first) has exited and its pipes closed. */
  private exited!: Promise<void>;
  private stderrTail = "";

  constructor(
    readonly spec: TargetSpec,
    readonly capabilities: Capabilities,
    readonly fixtures: Fixtures,
    private readonly driver: DriverCommand,
    readonly maxMemoryBytes: number,
  ) {
    this.name = targetName(spec);
  }

  errnoName(value: number): string {
    return errnoName(this.spec.architecture, value);
  }

  async start(): Promise<void> {
    const observerArgs = ["-f", "--seccomp-bpf", "-qq", "-e", straceTraceSet, "-e", "signal=none", "--"];
    this.stderrTail = "";
    const { program, args: driverArgs } = this.driver;
    const [command, args] = await containedCommand(
      ...(this.spec.tier === "host" ? (["strace", [...observerArgs, program, ...driverArgs]] as [string, string[]]) : qemuCommand(this.spec, program, driverArgs, true)),
    );
    this.child = spawn(command, args, { cwd: this.driver.cwd ?? this.fixtures.fixturesDirectory, env: this.driver.env ?? {}, stdio: ["pipe", "pipe", "pipe"] });
    this.child.on("error", () => {});
    this.child.stdin.on("error", () => {});
    this.observer = new ObserverLog();
    new LineChannel(this.child.stderr, (line) => {
      this.observer.addLine(line);
      // strace's own trace lines are not the driver's or strace's last word.
      if (!/^(\d+\s|\[pid\s|<\.\.\.|[a-z_0-9]+\()/.test(line)) this.stderrTail = line;
    });
    this.answers = new LineChannel(this.child.stdout);
    const child = this.child;
    this.exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
    const first = await this.nextAnswer(caseDeadlineMs(this.spec), "hello");
    if (first === "timeout") {
      this.stop();
      throw new Error(`the driver did not say hello within ${caseDeadlineMs(this.spec) / 1000} s`);
    }
    if (first === undefined) {
      // It ended before its hello: say how (a crash is the implementation's failure, exit 1).
      const ended = await this.endedBy();
      throw new Error(`the driver ${ended.startsWith("signal") ? "crashed" : "exited"} during hello (${ended})${this.stderrTail ? `; last stderr line: ${this.stderrTail}` : ""}`);
    }
    try {
      this.hello = parseHello(first);
    } catch (error) {
      this.stop();
      throw error;
    }
    this.oracle = oracleContext(this.spec, this.capabilities, this.hello, this.fixtures);
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

  async runCase(spawnCase: SpawnCase, observerRetries = 1): Promise<CaseRun> {
    const id = nextCaseId++;
    const line = encodeCase(id, spawnCase, this.fixtures, spawnCase.memoryBytes, this.hello.features.includes("repeat_runs"), this.spec.architecture);
    this.child.stdin.write(`${line}\n`);
    const answer = await this.nextAnswer(caseDeadlineMs(this.spec) + spawnCase.memoryBytes / 1e6, "answer");
    if (answer === "timeout" || answer === undefined) {
      const failure =
        answer === "timeout"
          ? `no answer within ${caseDeadlineMs(this.spec) / 1000} s: the spawn hung (child and driver killed)`
          : `the driver died during the case (${await this.endedBy()}${this.stderrTail ? `; last stderr line: ${this.stderrTail}` : ""})`;
      // strace itself can fail (seen: PTRACE_LISTEN answering EIO while a
      // traced child stops under the signal storm) and take the driver with
      // it. That is the observer's failure, not the implementation's: run
      // the case again, once, on a fresh driver.
      const observerFailed = answer === undefined && /^strace: /.test(this.stderrTail);
      this.stop();
      await this.start();
      if (observerFailed && observerRetries > 0) return this.runCase(spawnCase, observerRetries - 1);
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
    return { id, line, result, observed: await this.observer.take(id, 5000) };
  }

  async close(): Promise<void> {
    this.child.stdin.end();
    const timer = setTimeout(() => this.stop(), 5000);
    await this.exited;
    clearTimeout(timer);
    this.fixtures.remove();
  }
}

/** The amd64 spawn inside this Node process, through koffi; observed by strace attached to our threads. */
class InProcessTarget implements Target {
  readonly name: string;
  hello!: Hello;
  oracle!: OracleContext;
  private runCaseFunction!: { async: (...args: unknown[]) => void };
  private lseek!: (fd: number, offset: number, whence: number) => number;
  private strace: ChildProcessWithoutNullStreams | undefined;
  private observer = new ObserverLog();
  readonly maxMemoryBytes: number;

  constructor(
    readonly spec: TargetSpec,
    readonly capabilities: Capabilities,
    readonly fixtures: Fixtures,
    private readonly library: string,
    maxMemoryBytes: number,
  ) {
    this.name = targetName(spec);
    this.maxMemoryBytes = maxMemoryBytes;
  }

  errnoName(value: number): string {
    return errnoName(this.spec.architecture, value);
  }

  async start(): Promise<void> {
    const koffi = (await import("koffi")).default;
    const library = koffi.load(this.library);
    this.runCaseFunction = library.func("long vfc_run_case(const uint8_t *line, long length, _Out_ uint8_t *out, long capacity)") as never;
    const hello = library.func("long vfc_hello(_Out_ uint8_t *out, long capacity)") as (out: Buffer, capacity: number) => number;
    this.lseek = koffi.load("libc.so.6").func("long lseek(int fd, long offset, int whence)") as never;
    const buffer = Buffer.alloc(1 << 16);
    const length = hello(buffer, buffer.length);
    this.hello = parseHello(buffer.subarray(0, length).toString("latin1").trimEnd());
    this.oracle = oracleContext(this.spec, this.capabilities, this.hello, this.fixtures);
    await this.callRunCase("case id=0 path=x"); // starts libuv's pool threads before strace attaches
    await this.attachObserver();
  }

  private callRunCase(line: string, capacity = 1 << 16): Promise<string> {
    const out = Buffer.alloc(capacity);
    // A Buffer, not a JS string: koffi would convert a string and copy it.
    const bytes = Buffer.from(line, "latin1");
    return new Promise((resolve, reject) => {
      this.runCaseFunction.async(bytes, bytes.length, out, capacity, (error: Error | null, n: number) => {
        if (error) reject(error);
        else if (n < 0) this.callRunCase(line, -n + 1).then(resolve, reject);
        else resolve(out.subarray(0, n).toString("latin1").trimEnd());
      });
    });
  }

  /** strace on every thread of this process; ready once it shows our marker. */
  private async attachObserver(): Promise<void> {
    const threads = readdirSync(`/proc/${process.pid}/task`);
    const args = ["-qq", "-f", "-e", straceTraceSet, "-e", "signal=none", ...threads.flatMap((tid) => ["-p", tid])];
    this.strace = spawn("strace", args, { stdio: ["pipe", "pipe", "pipe"] });
    this.strace.on("error", () => {});
    new LineChannel(this.strace.stderr, (line) => this.observer.addLine(line));
    for (let attempt = 0; attempt < 100; attempt++) {
      this.lseek(-1, 0, 0);
      this.lseek(-1, 0, 2);
      if (await this.observer.take(0, 100)) return;
    }
    throw new Error("strace did not attach to this Node process");
  }

  async runCase(spawnCase: SpawnCase): Promise<CaseRun> {
    const id = nextCaseId++;
    // The Node heap holds the case's memory, touched, while the child is spawned.
    let heap: Buffer[] | undefined = spawnCase.memoryBytes ? holdInHeap(spawnCase.memoryBytes) : undefined;
    const line = encodeCase(id, spawnCase, this.fixtures, 0);
    const deadline = caseDeadlineMs(this.spec);
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<"hung">((resolve) => (timer = setTimeout(() => resolve("hung"), deadline)));
    const answer = await Promise.race([this.callRunCase(line), hung]);
    clearTimeout(timer);
    if (answer === "hung") {
      // Kill what we spawned (not strace); the blocked pool thread then returns.
      for (const pid of this.strayChildren()) killProcessTree(pid);
      heap = undefined;
      return { id, line, failure: `no answer within ${deadline / 1000} s: the spawn hung (child killed)` };
    }
    heap = undefined;
    void heap;
    const result = parseResult(answer);
    const observed = await this.observer.take(id, 5000);
    // Nobody else reaps in here: a spawned child still present as a zombie is one.
    for (const clone of observed?.clones ?? []) {
      if (clone.result > 0 && isZombieChildOfUs(clone.result)) result.zombies++;
    }
    return { id, line, result, observed };
  }

  private strayChildren(): number[] {
    return descendantsOf(process.pid).filter((pid) => pid !== this.strace?.pid && !descendantsOf(this.strace?.pid ?? -1).includes(pid));
  }

  async close(): Promise<void> {
    if (this.strace?.pid) killProcessTree(this.strace.pid);
    this.fixtures.remove();
  }
}

function isZombieChildOfUs(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[0] === "Z" && Number(fields[1]) === process.pid;
  } catch {
    return false;
  }
}

/** Largest memory a case maps, per tier (the gate may raise it). */
export function defaultMaxMemoryBytes(tier: TierName): number {
  return tier === "host" ? 256 << 20 : 64 << 20; /* a system VM has 512 MiB */
}

export async function startTarget(spec: TargetSpec, maxMemoryBytes = defaultMaxMemoryBytes(spec.tier)): Promise<Target> {
  if (spec.tier === "host" && !spec.architecture.runsOnAmd64Host) throw new Error(`${spec.architecture.name} does not run natively on this host: use tier user`);
  const implementation = spec.implementation ?? { name: "reference" };
  const served = implementationOf(implementation);
  if (!served.tiers.includes(spec.tier)) throw new Error(`${implementationLabel(implementation)} does not run on the ${spec.tier} tier: ${served.whyNotOtherTiers}`);
  if (spec.tier === "system") return startSystemTarget(spec, implementation, maxMemoryBytes, caseDeadlineMs(spec));
  const capabilities = await probeCapabilities(spec);
  if (spec.inProcess) {
    const library = await buildNative({ arch: "amd64", kind: "shared", defines: spec.defines });
    const execTarget = await buildNative({ arch: "amd64", kind: "static" });
    const target = new InProcessTarget(spec, capabilities, createFixtures(execTarget), library, maxMemoryBytes);
    await target.start();
    return target;
  }
  const driver = await driverCommand(implementation, spec.architecture, spec.defines);
  // The child-mode exec target is the reference build: natively the reference driver itself
  // (the implementation's own when it is the reference), under qemu-user the host's build.
  const execTarget =
    spec.tier === "host" && implementation.name === "reference" ? driver.program : await buildNative({ arch: spec.tier === "host" ? spec.architecture.name : hostArchitecture.name, kind: "static" });
  if (!existsSync(execTarget)) throw new Error(`exec target missing: ${execTarget}`);
  const target = new DriverTarget(spec, capabilities, createFixtures(execTarget), driver, maxMemoryBytes);
  await target.start();
  return target;
}
