/**
 * What a target is: an architecture on a tier, running an implementation,
 * serving cases one at a time through the driver protocol, with a deadline
 * per case and an observer that does not trust the implementation.
 *
 *   host    the driver runs natively (amd64, and 386 where this machine's
 *           kernel executes it: measured), under strace
 *   user    the driver runs under qemu-<arch> -strace; its exec target is
 *           the host's amd64 build (qemu-user runs a foreign binary only
 *           through binfmt_misc, which this suite does not register)
 *   host/in-process  the amd64 spawn called inside this Node process (koffi)
 *   system  qemu-system-<arch> booting a Debian kernel, the driver served
 *           over the serial console (system-target.ts)
 *
 * The kinds live in driver-target.ts, in-process-target.ts and
 * system-target.ts; start-target.ts picks one for a spec.
 */
import { join } from "node:path";
import { architectures, type Architecture } from "../../src/architectures.ts";
import type { CaseTimes } from "../../src/case-deadline.ts";
import type { ReportReplacement } from "../../src/gate-report.ts";
import type { ImplementationSpec } from "../../src/implementation-spec.ts";
import type { ObservedCase } from "../../src/observer.ts";
import type { OracleContext } from "../../src/oracle.ts";
import type { Capabilities, CaseResult, Hello } from "../../src/protocol.ts";
import type { SpawnCase } from "../../src/spawn-case.ts";
import type { TierName } from "../../src/tiers.ts";
import type { Fixtures } from "../build/fixtures.ts";
import type { DriverCommand } from "../implementations/adapter.ts";
import { implementationLabel } from "../implementations/index.ts";
import { userlandCommand } from "../process/userland.ts";
import type { Overlay } from "./containment.ts";
import { qemuUserBinary } from "../toolchain/qemu-user.ts";

export interface TargetSpec {
  architecture: Architecture;
  tier: TierName;
  /** The in-process (koffi) target: the Node process is the parent. */
  inProcess: boolean;
  /** The implementation's name in reports: "reference", "go", "mutant:<name>", ... */
  impl: string;
  /** What serves the protocol (harness/implementations/index.ts); the reference when absent. */
  implementation?: ImplementationSpec;
  /** -D defines for the implementation's build (deliberate-bug variants). */
  defines: readonly string[];
  /** Per-case deadline; default: the tier's (see caseDeadlineMs). */
  caseDeadlineMs?: number;
  /** System tier, for the benchmark's breakdown only (harness/targets/system-target.ts): init's observer off, or the console on virtio. */
  systemVariant?: SystemVariant;
  /** This target runs in place of one on `tier` that this machine cannot have, and why (measured: src/host-execution.ts). */
  replaced?: { tier: TierName; reason: string };
}

/** "arm64/user", "amd64/host/in-process"; other implementations than the reference add theirs: "arm64/user/go". */
export function targetName(spec: TargetSpec): string {
  const implementation = spec.implementation && spec.implementation.name !== "reference" ? `/${implementationLabel(spec.implementation)}` : "";
  return `${spec.architecture.name}/${spec.tier}${spec.inProcess ? "/in-process" : ""}${implementation}`;
}

/** A spec that runs in place of one this machine cannot have, as reports and tables name it: "386/user" in place of "386/host", and why. */
export function replacementOf(spec: TargetSpec): ReportReplacement | undefined {
  return spec.replaced && { target: targetName(spec), inPlaceOf: targetName({ ...spec, tier: spec.replaced.tier }), reason: spec.replaced.reason };
}

export interface CaseRun {
  id: number;
  line: string;
  result?: CaseResult;
  /** The case did not finish: the deadline passed or the driver died. */
  failure?: string;
  observed?: ObservedCase;
  /** From sending the case to its answer (absent when none came). */
  elapsedMs?: number;
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
  /** The full per-case deadline (the tier's or --case-deadline). */
  readonly caseDeadlineMs: number;
  /** This target's slowest passing case, which the shrink deadline follows (src/case-deadline.ts). */
  readonly caseTimes: CaseTimes;
  errnoName(value: number): string;
  /** Runs one case; deadlineMs (at most caseDeadlineMs, the default) is shorter while shrinking. */
  runCase(spawnCase: SpawnCase, deadlineMs?: number): Promise<CaseRun>;
  close(): Promise<void>;
}

/**
 * Test-only modes of init (native/system-init.c), not for gates:
 *   unobserved                 the driver runs untraced and unfiltered: the
 *                              system benchmark's "observer off" column
 *   probe-descendant           the probe runs a second time, as a traced
 *                              descendant under the observer's filter
 *   probe-untraced-descendant  the same, the descendant left untraced
 *   probe-killed               init kills its probe with SIGSEGV: a crashed probe
 * The probe's caps lines, in order, are in QemuSystemTarget.probeLines.
 * console "virtio": the protocol crosses a virtio console (hvc0) instead of
 * the serial line; the kernel's own messages go nowhere.
 */
export interface SystemVariant {
  initMode?: "unobserved" | "probe-descendant" | "probe-untraced-descendant" | "probe-killed";
  console?: "virtio";
}

/** The host's architecture: what a user-tier target's exec target is built for. */
export const hostArchitecture = architectures.find((a) => a.name === "amd64")!;

/** Per-case deadlines: generous, so that only a hang reaches them. */
const defaultCaseDeadlineMs: Record<TierName, number> = { host: 15_000, user: 60_000, system: 20_000 };

export function caseDeadlineMs(spec: TargetSpec): number {
  return spec.caseDeadlineMs ?? defaultCaseDeadlineMs[spec.tier];
}

/** Largest memory a case maps, per tier (the gate may raise it). */
export function defaultMaxMemoryBytes(tier: TierName): number {
  return tier === "host" ? 256 << 20 : 64 << 20; /* a system VM has 512 MiB */
}

export function oracleContext(spec: TargetSpec, capabilities: Capabilities, hello: Hello, fixtures: Fixtures): OracleContext {
  // Under qemu-user the exec target is the host's build (see startTarget): its report numbers signals as amd64 does.
  const reportArchitecture = spec.tier === "user" ? hostArchitecture : spec.architecture;
  return { architecture: spec.architecture, reportArchitecture, capabilities, hello, tier: spec.tier, directories: fixtures.directory };
}

let lastCaseId = 0;

/** Case ids are unique across this process's targets, so a stray line can never pass for another case's. */
export function nextCaseId(): number {
  return ++lastCaseId;
}

/** A program run natively: itself, or through its userland's own loader (harness/process/userland.ts), `libraryPath` ahead of the root's libraries. */
export function hostCommand(program: string, args: readonly string[], userland?: string, libraryPath: readonly string[] = []): string[] {
  return userland === undefined ? [program, ...args] : userlandCommand(userland, program, args, libraryPath).flat();
}

/** What the host tier lays over the machine's directories for a userland's program (DriverCommand's overlays), each from inside its root. */
export function userlandOverlays(driver: DriverCommand): Overlay[] {
  const root = driver.userland;
  return root === undefined ? [] : (driver.overlays ?? []).map((directory) => ({ from: join(root, directory), over: directory }));
}

/**
 * The command that runs a program on a host or user target: itself natively,
 * else under the pinned qemu-user (-strace: the user tier's observer; -L:
 * the root its loader and libraries come from, for a dynamic runtime).
 */
export function qemuCommand(spec: TargetSpec, program: string, args: string[], strace: boolean, userland?: string, libraryPath: readonly string[] = []): [string, string[]] {
  if (spec.tier === "host") {
    const [command, ...rest] = hostCommand(program, args, userland, libraryPath);
    return [command!, rest];
  }
  // -E sets the guest's own environment: its loader, not qemu's, reads LD_LIBRARY_PATH.
  const guestLibraryPath = libraryPath.length ? ["-E", `LD_LIBRARY_PATH=${libraryPath.join(":")}`] : [];
  return [qemuUserBinary(spec.architecture), [...(userland === undefined ? [] : ["-L", userland]), ...guestLibraryPath, ...(strace ? ["-strace"] : []), program, ...args]];
}
