/**
 * The implementations a target can put under the properties. Each one is a
 * program that speaks the driver protocol (docs/protocol.md); only what runs
 * the spawn changes, never the properties, the oracle or the observers.
 *
 *   reference  native/ (spawn.c and the per-architecture assembly); takes
 *              --define for the deliberate-bug variants
 *   go         impls/go: syscall.ForkExec, built for every GOARCH by the
 *              chosen Go toolchain (--goroot, else the go on PATH)
 *   glibc      impls/glibc: the C library's posix_spawn, linked statically
 *              with Debian's gcc or its cross compilers (no loong64 in bookworm)
 *   node       impls/node: Node's own child_process (libuv), in a Node process
 *              of its own beside the harness's, on the host tier
 *   cmd        --impl-cmd "COMMAND": any program of this machine, run by
 *              /bin/sh -c on the host tier
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Architecture, ArchitectureName } from "../../src/architectures.ts";
import { projectRoot } from "../build/native-sources.ts";
import { buildNative } from "../build/build.ts";
import { buildGlibcDriver, glibcToolchain, glibcToolchainMissing } from "./glibc.ts";
import { buildGoDriver, goToolchainVersion } from "./go.ts";
import type { TierName } from "../targets/targets.ts";

export type ImplementationSpec =
  | { name: "reference" }
  | { name: "go"; goroot?: string }
  | { name: "glibc" }
  | { name: "node" }
  | { name: "cmd"; command: string };

export interface Implementation {
  name: ImplementationSpec["name"];
  /** The tiers it can run on; the others are left out of a run with whyNotOtherTiers. */
  tiers: readonly TierName[];
  whyNotOtherTiers?: string;
  /** It is built from native/ and so takes -D switches (mutants). */
  takesDefines: boolean;
  /** Only these architectures (a program of this machine runs as amd64); absent: all nine. */
  architectures?: readonly ArchitectureName[];
  /** Its maintained known findings (src/known-findings.ts), used unless --known names another file. */
  knownFindings?: string;
}

const table: Record<ImplementationSpec["name"], Implementation> = {
  reference: { name: "reference", tiers: ["host", "user", "system"], takesDefines: true },
  go: { name: "go", tiers: ["host", "user", "system"], takesDefines: false, knownFindings: join(projectRoot, "impls", "go", "known-findings.json") },
  node: { name: "node", tiers: ["host"], whyNotOtherTiers: "it is this machine's Node: it runs natively, on the host tier only", takesDefines: false, architectures: ["amd64"] },
  glibc: { name: "glibc", tiers: ["host", "user"], whyNotOtherTiers: "the glibc driver is not packed into a VM yet", takesDefines: false },
  cmd: {
    name: "cmd",
    tiers: ["host"],
    whyNotOtherTiers: "an external command is a program of this machine: it runs natively, on the host tier only",
    takesDefines: false,
    architectures: ["amd64"],
  },
};

/** This implementation cannot be had for this target: the run reports a skip with the reason. */
export class TargetUnavailableError extends Error {}

export function implementationOf(spec: ImplementationSpec): Implementation {
  return table[spec.name];
}

/** The gate options that select this implementation, for replay commands. */
export function implementationOptions(spec: ImplementationSpec): string {
  switch (spec.name) {
    case "reference":
      return "";
    case "go":
      return ` --impl go${spec.goroot ? ` --goroot ${spec.goroot}` : ""}`;
    case "cmd":
      return ` --impl-cmd ${JSON.stringify(spec.command)}`;
    default:
      return ` --impl ${spec.name}`;
  }
}

/** The name a report and a table show: "reference", "go", "go@<goroot>", "cmd". */
export function implementationLabel(spec: ImplementationSpec): string {
  if (spec.name === "go" && spec.goroot) return `go@${spec.goroot}`;
  return spec.name;
}

/**
 * The version a known finding's pattern is matched against: Go's
 * `go version` token of the toolchain ("go1.19.8"), glibc's version
 * ("2.36", from getconf), this Node's ("v20.19.0"), the project's for the
 * reference; an external command has none ("unknown").
 */
export async function implementationVersion(spec: ImplementationSpec): Promise<string> {
  switch (spec.name) {
    case "reference":
      return (JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as { version: string }).version;
    case "go":
      // "go version go1.19.8 linux/amd64"
      return (await goToolchainVersion(spec.goroot)).split(" ")[2] ?? "unknown";
    case "glibc":
      // "glibc 2.36"
      return spawnSync("getconf", ["GNU_LIBC_VERSION"], { encoding: "utf8" }).stdout?.trim().split(" ")[1] ?? "unknown";
    case "node":
      return process.version;
    case "cmd":
      return "unknown";
  }
}

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
}

export async function driverCommand(spec: ImplementationSpec, architecture: Architecture, defines: readonly string[]): Promise<DriverCommand> {
  switch (spec.name) {
    case "reference":
      return { program: await buildNative({ arch: architecture.name, kind: "static", defines }), args: ["--driver"] };
    case "go":
      return { program: await buildGoDriver(architecture, spec.goroot), args: ["--driver"] };
    case "glibc":
      if (glibcToolchain(architecture) === undefined)
        throw new TargetUnavailableError(`no glibc build for ${architecture.name}: ${glibcToolchainMissing[architecture.name] ?? "no cross toolchain"}`);
      return { program: await buildGlibcDriver(architecture), args: ["--driver"] };
    case "node":
      // Its own process: its heap, process group and children are its own, and a crash or hang cannot take the harness down.
      // --expose-gc: the memory benchmark's held heap is given back at once (impls/node/heap-memory.ts).
      return { program: process.execPath, args: ["--expose-gc", "--import=tsx", join(projectRoot, "impls", "node", "driver.ts"), "--driver"], cwd: projectRoot };
    case "cmd":
      // Written by a person at a shell: relative paths are theirs, and PATH finds the interpreter.
      return { program: "/bin/sh", args: ["-c", spec.command], cwd: process.cwd(), env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } };
  }
}
