/**
 * --impl-cmd "COMMAND": any program of this machine that speaks the driver
 * protocol, run by /bin/sh -c on the host tier. docs/protocol.md's worked example
 * is a Python driver, so its tests need python3.
 */
import { ensureTools } from "../toolchain/ensure-tools.ts";
import type { ImplementationAdapter } from "./adapter.ts";

export const commandImplementation: ImplementationAdapter = {
  name: "cmd",
  tiers: ["host"],
  whyNotOtherTiers: "an external command is a program of this machine: it runs natively, on the host tier only",
  takesDefines: false,
  architectures: ["amd64"],
  replayOptions: (spec) => ` --impl-cmd ${JSON.stringify(spec.command)}`,
  label: () => "cmd",
  // An external command has no version the suite could ask for.
  version: async () => "unknown",
  // Written by a person at a shell: relative paths are theirs, and PATH finds the interpreter.
  driverCommand: async (spec) => ({ program: "/bin/sh", args: ["-c", spec.command ?? ""], cwd: process.cwd(), env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } }),
  requiredTools: () => [],
  installForTests: () => ensureTools([{ command: "python3", debianPackage: "python3" }]),
  toolchain: async () => "an external command: its toolchain is its own",
};
