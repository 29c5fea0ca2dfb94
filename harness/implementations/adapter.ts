/**
 * What the suite needs to know of an implementation, in one place per
 * implementation (harness/implementations/<name>.ts): where its driver comes
 * from, where it can run, what it needs installed, and its known findings.
 * Only the driver changes between implementations, never the properties, the
 * oracle or the observers.
 */
import type { ArchitectureName, Architecture } from "../../src/architectures.ts";
import type { ImplementationSpec } from "../../src/implementation-spec.ts";
import type { TierName } from "../../src/tiers.ts";
import type { RequiredTool } from "../toolchain/required-tools.ts";

/**
 * What to start to serve the protocol for this architecture: a program and
 * its arguments. An executable file for the architecture (so qemu-user and a
 * VM's init can run it too) except for cmd, which is a shell command line.
 */
export interface DriverCommand {
  program: string;
  args: string[];
  /** Where it starts and with what environment, when not the fixtures directory and an empty one. */
  cwd?: string;
  env?: Record<string, string>;
  /**
   * The root of the userland a dynamically linked program runs in (its
   * loader, libraries and files: a runtime release's packages unpacked),
   * absent for a static driver: qemu-user's -L, the loader of that root
   * on the host tier (harness/process/userland.ts). Its command is
   * "<program> <script> --driver": in a VM, /driver is the script behind a
   * #! line naming the program (harness/build/initramfs.ts).
   */
  userland?: string;
  /**
   * Directories the userland's program reads by absolute path, whatever its
   * loader (Debian's libnode reads its externalized builtins from
   * /usr/share/nodejs): on the host tier the root's copy is laid over the
   * machine's (an overlay, in the driver's own mount namespace); qemu-user's
   * -L and a VM's root see the userland's anyway.
   */
  overlays?: string[];
  /** Directories searched ahead of the userland's own (a --node tree's libuv.so.1): the loader's path on the host tier, LD_LIBRARY_PATH under qemu-user. */
  libraryPath?: string[];
  /** A trivial program linked like it (a libc release's), or a userland's own loader: run before the driver, its death at start is a measured skip (harness/targets/startup-check.ts). */
  startupCheck?: string;
  /** The check's arguments (none for a trivial program). */
  startupCheckArgs?: string[];
  /** What the check is, for a skip's reason, when not a trivial program linked like the driver: "own loader (ld.so --version)". */
  startupCheckIs?: string;
}

/** An option's value as one shell word for a replay command: quoted only when it needs it. */
export function shellWord(text: string): string {
  return /^[A-Za-z0-9_./=,+:@-]+$/.test(text) ? text : JSON.stringify(text);
}

/** This implementation cannot be had for this target: the run reports a skip with the reason. */
export class TargetUnavailableError extends Error {}

export interface ImplementationAdapter {
  name: string;
  /** The tiers it can run on; the others are left out of a run with whyNotOtherTiers. */
  tiers: readonly TierName[];
  whyNotOtherTiers?: string;
  /** Only these tiers for this spec (a maintainer's own build, outside every userland, never reaches a VM); before `tiers` when present. */
  tiersOf?(spec: ImplementationSpec): readonly TierName[];
  /** It is built from native/ and so takes -D switches (mutants). */
  takesDefines: boolean;
  /** Only these architectures (a program of this machine runs as amd64); absent: all nine. */
  architectures?: readonly ArchitectureName[];
  /** Only the architectures this spec names (--impl-binary's); before `architectures` when present. */
  architecturesOf?(spec: ImplementationSpec): readonly ArchitectureName[];
  /** Refuses a spec whose inputs are unusable (a UsageError, one line), before any long work. */
  validate?(spec: ImplementationSpec): void;
  /** Its maintained known findings (src/known-findings.ts), used unless --known names another file. */
  knownFindings?: string;
  /** The options after `gate` that select it again, for replay commands ("" for the reference). */
  replayOptions(spec: ImplementationSpec): string;
  /** The name a report and a table show ("go@<goroot>" for another Go tree). */
  label(spec: ImplementationSpec): string;
  /** The version a known finding's pattern is matched against. */
  version(spec: ImplementationSpec): Promise<string>;
  /** Its driver for this architecture, built (and cached) when it is built. */
  driverCommand(spec: ImplementationSpec, architecture: Architecture, defines: readonly string[]): Promise<DriverCommand>;
  /** The commands a run of it needs on this machine, with their Debian packages. */
  requiredTools(spec: ImplementationSpec): RequiredTool[];
  /** What `setup --impl-tools` installs once for its tests, so that parallel tests never install. */
  installForTests?(): Promise<void>;
  /** Its toolchain as the report names it; undefined when it is the suite's own native build. */
  toolchain(spec: ImplementationSpec, architecture: Architecture): Promise<string | undefined>;
}
