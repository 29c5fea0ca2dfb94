/**
 * Measures which candidate architectures (src/host-execution.ts) this
 * machine's kernel executes natively: a static ELF that only exits with a
 * chosen code (src/static-exit-elf.ts: no compiler, none of the code under
 * test) is written to a temporary file, run with a deadline, and removed.
 * Once per process; VFORKCHECK_HOST_EXEC replaces the measurement.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { binfmtEntryMatches, parseBinfmtEntry, type BinfmtEntry } from "../../src/binfmt-misc.ts";
import { hostExecOverrideVariable, hostExecutionFromOverride, nativeCandidates, type HostExecution, type NativeExecution } from "../../src/host-execution.ts";
import { isExitElfArchitecture, staticExitElf, type ExitElfArchitecture } from "../../src/static-exit-elf.ts";
import type { Architecture } from "../../src/architectures.ts";

/** The code the test binary exits with: none that /bin/sh gives (2, 126, 127) when execvp hands it an unloadable file. */
export const measuredExitCode = 93;
const deadlineMs = 5_000;
const binfmtDirectory = "/proc/sys/fs/binfmt_misc";

/** What the kernel calls each architecture's binaries, for the reasons. */
const binaryKind: Record<ExitElfArchitecture, string> = { amd64: "x86-64", "386": "i386" };

/** Enabled binfmt_misc entries; none where binfmt_misc is not mounted or is disabled as a whole. */
export function readBinfmtEntries(directory = binfmtDirectory): BinfmtEntry[] {
  try {
    if (readFileSync(join(directory, "status"), "utf8").trim() !== "enabled") return [];
    return readdirSync(directory)
      .filter((name) => name !== "status" && name !== "register")
      .map((name) => parseBinfmtEntry(name, readFileSync(join(directory, name), "utf8")))
      .filter((entry) => entry.enabled);
  } catch {
    return [];
  }
}

/** Runs the file; retried once on ETXTBSY (another thread's fork may hold the just-written file open for a moment). */
function run(file: string): SpawnSyncReturns<Buffer> {
  const once = () => spawnSync(file, [], { timeout: deadlineMs, killSignal: "SIGKILL", stdio: ["ignore", "ignore", "pipe"], env: {} });
  const first = once();
  return (first.error as NodeJS.ErrnoException | undefined)?.code === "ETXTBSY" ? once() : first;
}

/** One candidate, measured in `directory`. */
function measureOne(architecture: Architecture, directory: string, binfmt: readonly BinfmtEntry[]): NativeExecution {
  const name = architecture.name;
  if (!isExitElfArchitecture(name)) return { architecture: name, native: false, reason: `taken as not native: vforkcheck has no test binary for ${name} to measure it with` };
  return measureExitElf(name, staticExitElf(name, measuredExitCode), directory, binfmt);
}

/** Runs `elf` (a static ELF of `name` that exits with measuredExitCode) from `directory`, and says whether it ran natively and why. */
export function measureExitElf(name: ExitElfArchitecture, elf: Buffer, directory: string, binfmt: readonly BinfmtEntry[]): NativeExecution {
  const kind = binaryKind[name];
  const file = join(directory, `exit-${name}`);
  writeFileSync(file, elf);
  chmodSync(file, 0o700);
  const result = run(file);
  const error = result.error as NodeJS.ErrnoException | undefined;
  const what = `a static ${kind} ELF`;
  let ran = false;
  let outcome: string;
  if (error?.code === "ETIMEDOUT") outcome = `${what} did not exit within ${deadlineMs / 1000} s`;
  else if (error) outcome = `${what} could not be executed: ${error.code ?? error.message}`;
  else if (result.signal) outcome = `${what} was started but died of ${result.signal} before its exit(${measuredExitCode})`;
  else if (result.status === measuredExitCode) {
    ran = true;
    outcome = `${what} ran and exited ${measuredExitCode}`;
  }
  // glibc's execvp hands a file the kernel refuses with ENOEXEC to /bin/sh, and only then: the shell's exit says it was refused.
  else outcome = `${what} failed with ENOEXEC (Exec format error; execvp handed it to /bin/sh, which exited ${result.status})`;
  const through = binfmt.find((entry) => binfmtEntryMatches(entry, file, elf));
  if (through)
    return {
      architecture: name,
      native: false,
      reason: `binfmt_misc entry '${through.name}' (interpreter ${through.interpreter}) takes ${kind} binaries before the kernel's own loader, so they run under that interpreter here, not natively (${outcome})`,
    };
  if (ran) return { architecture: name, native: true, reason: `this machine's kernel executes ${kind} binaries: ${outcome}` };
  return { architecture: name, native: false, reason: `this machine's kernel does not execute ${kind} binaries: ${outcome}` };
}

/** Every candidate, measured now in a directory made under `parent` and removed after (not cached: tests compare it with a check of their own). */
export function measureHostExecution(candidates: readonly Architecture[] = nativeCandidates, parent = tmpdir()): HostExecution {
  const directory = mkdtempSync(join(parent, "vforkcheck-native-exec-"));
  try {
    const binfmt = readBinfmtEntries();
    return candidates.map((architecture) => measureOne(architecture, directory, binfmt));
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

let measured: HostExecution | undefined;

/**
 * What the plan and the targets use: VFORKCHECK_HOST_EXEC's architectures
 * when it is set (a bad value is a one-line UsageError), else this
 * machine's measurement, made once per process.
 */
export function hostExecution(env: NodeJS.ProcessEnv = process.env): HostExecution {
  const override = env[hostExecOverrideVariable];
  if (override !== undefined && override !== "") return hostExecutionFromOverride(override);
  return (measured ??= measureHostExecution());
}
