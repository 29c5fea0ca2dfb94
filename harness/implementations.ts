/**
 * The implementations a target can put under the properties. Each one is a
 * program that speaks the driver protocol (docs/protocol.md); only what runs
 * the spawn changes, never the properties, the oracle or the observers.
 *
 *   reference  native/ (spawn.c and the per-architecture assembly); takes
 *              --define for the deliberate-bug variants
 *   go         impls/go: syscall.ForkExec, built for every GOARCH by the
 *              chosen Go toolchain (--goroot, else the go on PATH)
 *   cmd        --impl-cmd "COMMAND": any program of this machine, run by
 *              /bin/sh -c on the host tier
 */
import type { Architecture } from "../src/architectures.ts";
import { buildNative } from "./build.ts";
import { buildGoDriver } from "./go-build.ts";
import type { TierName } from "./targets.ts";

export type ImplementationSpec =
  | { name: "reference" }
  | { name: "go"; goroot?: string }
  | { name: "cmd"; command: string };

export interface Implementation {
  name: ImplementationSpec["name"];
  /** The tiers it can run on; the others are left out of a run with whyNotOtherTiers. */
  tiers: readonly TierName[];
  whyNotOtherTiers?: string;
  /** It is built from native/ and so takes -D switches (mutants). */
  takesDefines: boolean;
}

const table: Record<ImplementationSpec["name"], Implementation> = {
  reference: { name: "reference", tiers: ["host", "user", "system"], takesDefines: true },
  go: { name: "go", tiers: ["host", "user", "system"], takesDefines: false },
  cmd: {
    name: "cmd",
    tiers: ["host"],
    whyNotOtherTiers: "an external command is a program of this machine: it runs natively, on the host tier only",
    takesDefines: false,
  },
};

export function implementationOf(spec: ImplementationSpec): Implementation {
  return table[spec.name];
}

/** The name a report and a table show: "reference", "go", "go@<goroot>", "cmd". */
export function implementationLabel(spec: ImplementationSpec): string {
  if (spec.name === "go" && spec.goroot) return `go@${spec.goroot}`;
  return spec.name;
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
    case "cmd":
      // Written by a person at a shell: relative paths are theirs, and PATH finds the interpreter.
      return { program: "/bin/sh", args: ["-c", spec.command], cwd: process.cwd(), env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } };
  }
}
