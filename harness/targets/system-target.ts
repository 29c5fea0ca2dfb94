/**
 * The system tier: one qemu-system VM per architecture, booting a Debian
 * kernel whose process 1 is the reference build in --system-init mode
 * (native/system-init.c). The VM stays up for the whole run and serves
 * every case over its serial console; the console carries, one line each:
 *   caps ...          the probe, run inside the VM by the reference build
 *   hello/result/error  the driver protocol, as on the other tiers
 *   trace ...         what ptrace saw the driver call (the observer)
 *   vfc-init ...      init's events: a case past its deadline, a driver exit
 *   anything else     the kernel's own messages (kept for error reports)
 * A driver that crashes is restarted by init (a new hello follows); a VM
 * that stops answering is killed at the harness's deadline and booted again.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Architecture } from "../../src/architectures.ts";
import { CaseTimes, restartPays } from "../../src/case-deadline.ts";
import { errnoName } from "../../src/errno.ts";
import { ObserverLog } from "../../src/observer.ts";
import type { OracleContext } from "../../src/oracle.ts";
import { contradictedProbeReason, describeProbeStatus } from "../../src/probe-checks.ts";
import { encodeCase, parseCapabilities, parseHello, parseResult, ProtocolError, type Capabilities, type Hello } from "../../src/protocol.ts";
import type { SpawnCase } from "../../src/spawn-case.ts";
import { buildNative, buildRoot } from "../build/build.ts";
import { resolveFixturePaths, type Fixtures } from "../build/fixtures.ts";
import { initramfsFile, systemExecTarget, systemFixturesDirectory, systemInitramfs } from "../build/initramfs.ts";
import { driverCommand } from "../implementations/index.ts";
import type { ImplementationSpec } from "../../src/implementation-spec.ts";
import { ensureKernel, ensureQemuSystem, ensureVirtioConsoleModules, type KernelImage } from "../toolchain/kernels.ts";
import { refuseUndeclaredSystemTarget } from "../toolchain/test-requirements.ts";
import { notRunningCasesError } from "./driver-target.ts";
import { LineChannel, LineQueue, maxLineBytes } from "./line-channel.ts";
import { killProcessTree } from "../process/process-tree.ts";
import { onCleanup, type Cleanup } from "../process/run-cleanup.ts";
import { probeDefines } from "./probe.ts";
import { targetName, type CaseRun, type Target, type TargetSpec } from "./target.ts";

/** Emulated boots take 2-6 s alone; two VMs booting at once on two busy cores take far longer. */
const bootDeadlineMs = 180_000;
/** What the harness adds to init's own per-case deadline before it gives up on the whole VM. */
const vmSilenceMarginMs = 30_000;

/** The lines of the protocol, the observer's and init's: a console line that starts otherwise is a log line. */
const protocolLine = /^(caps|hello|result|timings|error|vfc-init|trace) /;
/**
 * A log line on the console (a kernel message, a driver's stderr) is short:
 * one longer than this is a driver writing to the console without newlines,
 * said at once rather than when 32 MiB (an answer's limit) have crossed a
 * serial line.
 */
const consoleLogLineBytes = 64 << 10;
const consoleLineLimit = (head: string) => (protocolLine.test(head) ? maxLineBytes : consoleLogLineBytes);
/** Queued in place of a console line that went past its limit: the next exchange turns it into a malformed answer. */
const consoleLineCut = "\0console line cut";
/** init's start marker of a case, as it prints it. */
const startMarker = /^trace lseek\(-1, (\d+), SEEK_SET\)/;

/** The kernel module that drives this QEMU virtio-serial bus's transport. */
const virtioTransportModules = { "virtio-serial-pci": "virtio_pci", "virtio-serial-device": "virtio_mmio" } as const;

/** Boot time, throughput and memory of one VM, for the report. */
export interface MachineStatistics {
  qemu: string;
  kernel: string;
  boots: number;
  /** The last boot: from qemu's start to the driver's hello. */
  bootSeconds: number;
  cases: number;
  casesPerSecond: number;
  /** qemu's peak resident memory (VmHWM). */
  peakMemoryBytes: number;
}

export class QemuSystemTarget implements Target {
  readonly name: string;
  /** The current driver's hello: one copy, the oracle's, so a restarted driver's replaces it everywhere. */
  get hello(): Hello {
    return this.oracle.hello;
  }
  capabilities!: Capabilities;
  oracle!: OracleContext;
  readonly fixtures: Fixtures;
  readonly caseTimes = new CaseTimes();
  private qemu: ChildProcessWithoutNullStreams | undefined;
  private qemuCleanup: Cleanup | undefined;
  private answers = new LineQueue();
  private observer = new ObserverLog();
  private consoleTail: string[] = [];
  /** The kernel's last word on why a VM stops (a panic, the OOM killer), kept past the backtrace that follows it. */
  private consoleCause: string | undefined;
  /** The first console line cut at its limit: its head, for the malformed answer. */
  private cutLine: { head: string; limit: number } | undefined;
  /** The last case whose start marker init printed. */
  private startedCase: number | undefined;
  /** Every caps line of this boot: the probe's, and with a probe initMode the descendant's after it. */
  readonly probeLines: string[] = [];
  /** build/initramfs-<arch>-<hash>.cpio: by content, so nothing is left in /tmp even by a killed run. */
  private readonly initramfsPath: string;
  private statistics = { boots: 0, bootMs: 0, slowestBootMs: 0, cases: 0, caseMs: 0, peakMemoryBytes: 0 };

  constructor(
    readonly spec: TargetSpec,
    private readonly kernel: KernelImage,
    private readonly qemuBinary: string,
    /** The host's (amd64) reference build, which starts qemu in --die-with-parent mode. */
    private readonly launcher: string,
    initramfs: Buffer,
    readonly maxMemoryBytes: number,
    /** Init enforces it inside the VM (its command line); a shorter one the harness enforces (runCase). */
    readonly caseDeadlineMs: number,
    /** The VM's memory: the table's, unless a run needs more (the memory benchmark). */
    readonly memoryMiB = spec.architecture.system.memoryMiB,
  ) {
    this.name = targetName(spec);
    this.initramfsPath = initramfsFile(buildRoot, `initramfs-${spec.architecture.name}`, initramfs, (line) => process.stderr.write(`vforkcheck: ${line}\n`));
    this.fixtures = { ...resolveFixturePaths(systemFixturesDirectory, systemExecTarget), remove: () => {} };
  }

  errnoName(value: number): string {
    return errnoName(this.spec.architecture, value);
  }

  private qemuArguments(): string[] {
    const machine = this.spec.architecture.system;
    const { initMode, console } = this.spec.systemVariant ?? {};
    const initWords = [...(initMode ? [initMode] : []), ...(console === "virtio" ? ["virtio-console"] : [])];
    const append = [`console=${machine.console}`, "quiet", "loglevel=1", "panic=-1", ...machine.append, "--", "--system-init", String(this.caseDeadlineMs), ...initWords];
    const consoleDevice = console === "virtio"
      ? ["-serial", "null", "-device", machine.virtioSerial!, "-device", "virtconsole,chardev=console"]
      : ["-serial", "chardev:console"];
    return [
      ...machine.machine,
      "-m", String(this.memoryMiB),
      "-smp", "1",
      // No network: nothing needs one, and a NIC would need its option ROM (ipxe-qemu).
      "-nic", "none",
      "-display", "none",
      "-monitor", "none",
      // The console gets its own chardev: no monitor multiplexed on stdio, so no byte is an escape.
      "-chardev", "stdio,id=console,signal=off",
      ...consoleDevice,
      "-no-reboot",
      "-kernel", this.kernel.path,
      "-initrd", this.initramfsPath,
      "-append", append.join(" "),
    ];
  }

  /** Boots the VM and waits for the probe's line and the driver's hello. */
  async start(): Promise<void> {
    const started = Date.now();
    this.answers = new LineQueue();
    this.observer = new ObserverLog();
    this.consoleTail = [];
    this.consoleCause = undefined;
    this.cutLine = undefined;
    this.probeLines.length = 0;
    // Through the host's reference build in --die-with-parent mode: the kernel kills qemu if this process dies, even by SIGKILL.
    const qemu = spawn(this.launcher, ["--die-with-parent", this.qemuBinary, ...this.qemuArguments()], { stdio: ["pipe", "pipe", "pipe"] });
    this.qemu = qemu;
    this.qemuCleanup = onCleanup(() => killProcessTree(qemu.pid ?? -1));
    qemu.on("error", () => {});
    qemu.stdin.on("error", () => {});
    const answers = this.answers; // this boot's: a killed VM's exit must not end its successor's queue
    qemu.on("exit", () => answers.end());
    new LineChannel(qemu.stdout, (line, cut) => this.route(line.replace(/\r$/, ""), cut), consoleLineLimit);
    new LineChannel(qemu.stderr, (line) => this.remember(`qemu: ${line}`));
    const caps = await this.nextLine((line) => line.startsWith("caps "), bootDeadlineMs, "boot and probe");
    this.capabilities = parseCapabilities(caps);
    const contradicted = contradictedProbeReason(this.capabilities, this.spec.architecture);
    if (contradicted) {
      this.kill();
      throw new Error(`${this.name}: ${contradicted}`);
    }
    const hello = parseHello(await this.nextLine((line) => line.startsWith("hello "), bootDeadlineMs, "boot"));
    this.oracle = { architecture: this.spec.architecture, capabilities: this.capabilities, hello, tier: "system", directories: this.fixtures.directory };
    this.statistics.boots++;
    this.statistics.bootMs = Date.now() - started;
    this.statistics.slowestBootMs = Math.max(this.statistics.slowestBootMs, this.statistics.bootMs);
  }

  private route(line: string, cut: boolean): void {
    if (cut) {
      this.cutLine ??= { head: line.slice(0, 120), limit: consoleLineLimit(line) };
      this.answers.push(consoleLineCut);
      return;
    }
    if (line.startsWith("caps ")) this.probeLines.push(line);
    if (line.startsWith("trace ")) {
      this.observer.addLine(line);
      const started = startMarker.exec(line);
      if (started) this.startedCase = Number(started[1]);
    } else if (/^(caps|hello|result|timings|error|vfc-init) /.test(line)) this.answers.push(line);
    else this.remember(line);
  }

  /** The last console lines that were not protocol (kernel messages, qemu's errors). */
  private remember(line: string): void {
    if (line.trim() === "") return;
    if (/Kernel panic|Out of memory|oom-kill|BUG:|Oops|Unable to handle/.test(line)) this.consoleCause = line;
    this.consoleTail.push(line);
    if (this.consoleTail.length > 5) this.consoleTail.shift();
  }

  private consoleSays(): string {
    const cause = this.consoleCause && !this.consoleTail.includes(this.consoleCause) ? `${this.consoleCause} ... ` : "";
    return this.consoleTail.length ? `; console: ${cause}${this.consoleTail.join(" | ")}` : "";
  }

  /** The next line that `wanted` accepts, skipping init's "booted"; throws past the deadline or if the VM ends. */
  private async nextLine(wanted: (line: string) => boolean, deadlineMs: number, what: string): Promise<string> {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      const line = await this.answers.next(Math.max(1, deadline - Date.now()));
      if (line === "timeout" || line === undefined) {
        this.kill();
        throw new Error(`${this.name}: ${what} did not finish (${line === "timeout" ? `no answer within ${deadlineMs / 1000} s` : `qemu exited with ${this.qemu?.exitCode ?? this.qemu?.signalCode}`})${this.consoleSays()}`);
      }
      if (line === consoleLineCut) throw this.cutLineError();
      if (wanted(line)) return line;
      if (line.startsWith("vfc-init fatal")) throw new Error(`${this.name}: ${line}${this.consoleSays()}`);
      // No caps line follows a probe that died: waiting for one would only end at the boot deadline.
      const probeFailed = /^vfc-init probe-failed status=(-?\d+)$/.exec(line);
      if (probeFailed) {
        this.kill();
        throw new Error(`${this.name}: the probe failed inside the VM: ${describeProbeStatus(Number(probeFailed[1]), this.spec.architecture)} (${line})${this.consoleSays()}`);
      }
    }
  }

  /** A driver that floods the console without newlines: a malformed answer, which stops the target. */
  private cutLineError(): ProtocolError {
    this.kill();
    const { head, limit } = this.cutLine!;
    return new ProtocolError(`a console line longer than ${limit} bytes${limit < maxLineBytes ? " that is no protocol line (the driver writes without newlines?)" : " (the protocol's line limit)"}`, head);
  }

  /**
   * Writes one line to the driver and waits for its answer. A VM that stays
   * silent past silenceMs is killed and booted again; one that stops (qemu
   * exits: a panic, init's power-off) is said at once, with the console's
   * last lines, and booted again; a driver that dies or outlives init's
   * deadline is restarted by init (its hello comes next). With started, a
   * driver that has neither answered nor made the case's start marker
   * within its startWithinMs is not running its cases at all (it closed its
   * standard output, or stopped reading): a malformed answer then, at once,
   * not one case deadline and VM boot after another.
   */
  private async exchange(
    line: string,
    silenceMs: number,
    options: { silenceMeans?: string; started?: { id: number; withinMs: number } } = {},
  ): Promise<{ answer: string } | { failure: string; driverRestarted: boolean }> {
    const sent = Date.now();
    this.startedCase = undefined;
    this.qemu!.stdin.write(`${line}\n`);
    const started = options.started && options.started.withinMs < silenceMs ? options.started : undefined;
    let answer = await this.answers.next(started ? started.withinMs : silenceMs);
    if (answer === "timeout" && started) {
      if (this.startedCase !== started.id) {
        this.kill();
        throw notRunningCasesError(started.withinMs, line);
      }
      answer = await this.answers.next(Math.max(1, silenceMs - (Date.now() - sent)));
    }
    if (answer === consoleLineCut) throw this.cutLineError();
    const fatal = answer !== undefined && answer !== "timeout" && answer.startsWith("vfc-init fatal") ? answer : undefined;
    if (answer === "timeout" || answer === undefined || fatal) {
      const seconds = ((Date.now() - sent) / 1000).toFixed(0);
      const failure =
        answer === "timeout"
          ? (options.silenceMeans ?? `the VM did not answer within ${(silenceMs / 1000).toFixed(0)} s (qemu killed) and was booted again${this.consoleSays()}`)
          : `the VM stopped ${seconds} s into the case (${fatal ? `init: ${fatal.replace(/^vfc-init fatal: /, "")}` : `qemu exited with ${this.qemu?.exitCode ?? this.qemu?.signalCode}`}) and was booted again${this.consoleSays()}`;
      this.kill();
      await this.start();
      return { failure, driverRestarted: false };
    }
    if (answer.startsWith("vfc-init ")) {
      const failure = answer.startsWith("vfc-init case-deadline")
        ? `no answer within ${this.caseDeadlineMs / 1000} s: the spawn hung (init killed every process in the VM)`
        : `the driver died (${answer.replace(/^vfc-init driver-exit /, "")})`;
      // The restarted driver is another process: the oracle's parent pid, group and session are its own now.
      this.oracle = { ...this.oracle, hello: parseHello(await this.nextLine((next) => next.startsWith("hello "), bootDeadlineMs, "driver restart")) };
      return { failure, driverRestarted: true };
    }
    return { answer };
  }

  /**
   * A deadline shorter than init's (while shrinking) is the harness's: past
   * it the VM is killed and booted again, since init would wait for its own.
   * That pays only when the deadline and a boot (as long as the slowest so
   * far: a loaded machine boots far slower than an idle one) end sooner than
   * init's deadline; else init's holds.
   */
  async runCase(spawnCase: SpawnCase, deadlineMs = this.caseDeadlineMs): Promise<CaseRun> {
    const id = nextSystemCaseId++;
    const line = encodeCase(id, spawnCase, this.fixtures, spawnCase.memoryBytes, this.hello.features.includes("repeat_runs"), this.spec.architecture);
    const memoryMs = spawnCase.memoryBytes / 1e5;
    const harnessDeadline = deadlineMs < this.caseDeadlineMs && restartPays(deadlineMs + memoryMs, this.statistics.slowestBootMs, this.caseDeadlineMs);
    const started = Date.now();
    const exchanged = harnessDeadline
      ? await this.exchange(line, deadlineMs + memoryMs, { silenceMeans: `no answer within ${deadlineMs / 1000} s (the shrink deadline): the spawn hung (the VM was killed and booted again)` })
      : await this.exchange(line, this.caseDeadlineMs + vmSilenceMarginMs + memoryMs, this.spec.systemVariant?.initMode === "unobserved" ? {} : { started: { id, withinMs: this.caseDeadlineMs + memoryMs } });
    const elapsedMs = Date.now() - started;
    if ("failure" in exchanged) return { id, line, failure: exchanged.failure, ...(exchanged.driverRestarted ? { observed: await this.observer.take(id, 0) } : {}) };
    const answer = exchanged.answer;
    const result = parseResult(answer);
    if (result.id !== id) throw new ProtocolError(`answer for case ${result.id}, expected ${id}`, answer);
    this.statistics.cases++;
    this.statistics.caseMs += Date.now() - started;
    if (this.spec.systemVariant?.initMode === "unobserved") return { id, line, result };
    // init prints the end marker before it lets the driver answer: the record is complete by now.
    return { id, line, result, observed: await this.observer.take(id, 5000), elapsedMs };
  }

  /** One line that is not a case (the memory benchmark's `bench`): its answer, or an Error saying why there is none. */
  async runLine(line: string, silenceMs: number): Promise<string> {
    const exchanged = await this.exchange(line, silenceMs);
    if ("failure" in exchanged) throw new Error(`${this.name}: ${exchanged.failure}`);
    return exchanged.answer;
  }

  machineStatistics(): MachineStatistics {
    return {
      qemu: this.qemuBinary,
      kernel: `${this.kernel.packageName} ${this.kernel.version}`,
      boots: this.statistics.boots,
      bootSeconds: this.statistics.bootMs / 1000,
      cases: this.statistics.cases,
      casesPerSecond: this.statistics.caseMs ? this.statistics.cases / (this.statistics.caseMs / 1000) : 0,
      peakMemoryBytes: Math.max(this.statistics.peakMemoryBytes, this.qemuPeakMemory()),
    };
  }

  private qemuPeakMemory(): number {
    try {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.qemu?.pid}/status`, "latin1"));
      return match ? Number(match[1]) * 1024 : 0;
    } catch {
      return 0;
    }
  }

  private kill(): void {
    this.statistics.peakMemoryBytes = Math.max(this.statistics.peakMemoryBytes, this.qemuPeakMemory());
    this.qemuCleanup?.run();
  }

  async close(): Promise<void> {
    const qemu = this.qemu;
    this.kill();
    if (qemu && qemu.exitCode === null && qemu.signalCode === null) await new Promise((resolve) => qemu.once("exit", resolve));
  }
}

let nextSystemCaseId = 1;

/**
 * The VM's memory for an initramfs of this size: the table's, raised where a
 * runtime's userland makes it large (Node's is 110-150 MB). The kernel holds
 * the archive and its unpacked files at once while it boots, and the runtime
 * then needs its own heap beside them. Never above the machine model's limit.
 */
function vmMemoryMiB(architecture: Architecture, initramfsBytes: number): number {
  const wanted = Math.ceil((256 + (3 * initramfsBytes) / 2 ** 20) / 64) * 64;
  return Math.min(Math.max(architecture.system.memoryMiB, wanted), architecture.system.maxMemoryMiB ?? Number.POSITIVE_INFINITY);
}

/** Boots a VM for the target (startTarget has checked the implementation runs on this tier): kernel and QEMU from the cache (fetched on first use), initramfs from the two builds. */
export async function startSystemTarget(spec: TargetSpec, implementation: ImplementationSpec, maxMemoryBytes: number, caseDeadlineMs: number, memoryMiB?: number): Promise<QemuSystemTarget> {
  const virtioSerial = spec.systemVariant?.console === "virtio" ? spec.architecture.system.virtioSerial : undefined;
  if (spec.systemVariant?.console === "virtio" && virtioSerial === undefined) throw new Error(`${targetName(spec)}: no virtio console on this machine (src/architectures.ts says why)`);
  // Under ava: a VM npm test's set-up did not provide for fails here, before anything is fetched (test/requirements.json).
  refuseUndeclaredSystemTarget(spec.architecture);
  const [kernel, qemu, reference, driver, launcher] = await Promise.all([
    ensureKernel(spec.architecture),
    ensureQemuSystem(spec.architecture),
    // init (and the probe it runs) is the reference build: a mutant of the observer itself (MUTANT_OBSERVER_*, in system-init.c)
    // is built into it, and so is a broken port (probeDefines), which every build for the architecture would carry.
    buildNative({ arch: spec.architecture.name, kind: "static", defines: [...spec.defines.filter((define) => define.startsWith("MUTANT_OBSERVER_")), ...probeDefines(spec.defines)] }),
    driverCommand(implementation, spec.architecture, spec.defines),
    buildNative({ arch: "amd64", kind: "static" }),
  ]);
  // init runs "/driver --driver": the implementation's program must take that (a userland's driver script has a #! line).
  const virtioConsole = virtioSerial ? { modules: await ensureVirtioConsoleModules(spec.architecture, kernel, virtioTransportModules[virtioSerial]) } : undefined;
  const initramfs = systemInitramfs(reference, driver, virtioConsole);
  const target = new QemuSystemTarget(spec, kernel, qemu, launcher, initramfs, maxMemoryBytes, caseDeadlineMs, memoryMiB ?? vmMemoryMiB(spec.architecture, initramfs.length));
  try {
    await target.start();
  } catch (error) {
    await target.close();
    throw error;
  }
  return target;
}
