/**
 * --impl-binary ARCH=PATH[,ARCH=PATH...]: a static driver program per
 * architecture, built by whoever maintains the spawn under test (the C
 * skeleton in docs/protocol.md is one). Each runs where the reference's
 * driver runs: natively on the host tier, under qemu-user, and as /driver in
 * the VM's initramfs; only the architectures named are planned.
 */
import { accessSync, constants, statSync } from "node:fs";
import type { Architecture } from "../../src/architectures.ts";
import { readElfHeader, whyNotDriverFor } from "../../src/elf-header.ts";
import type { BinaryDriver, ImplementationSpec } from "../../src/implementation-spec.ts";
import { UsageError } from "../../src/usage-error.ts";
import { readFileHead } from "../process/files.ts";
import { shellWord, type ImplementationAdapter } from "./adapter.ts";

/** The program headers of a static driver lie within its first pages. */
const headerBytes = 64 * 1024;

const readHead = (path: string) => readFileHead(path, headerBytes);

/** Why this file cannot be the driver for its architecture, or undefined. */
function whyNotDriver(binary: BinaryDriver): string | undefined {
  let regular: boolean;
  try {
    regular = statSync(binary.path).isFile();
  } catch {
    return "no such file";
  }
  if (!regular) return "not a regular file";
  try {
    accessSync(binary.path, constants.X_OK);
  } catch {
    return "not executable";
  }
  let head: Buffer;
  try {
    head = readHead(binary.path);
  } catch (error) {
    return `unreadable (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  }
  const header = readElfHeader(head);
  return typeof header === "string" ? header : whyNotDriverFor(header, binary.architecture);
}

function binaryFor(spec: ImplementationSpec, architecture: Architecture): BinaryDriver {
  const binary = spec.binaries?.find((candidate) => candidate.architecture === architecture.name);
  // planTargets plans only the named architectures, so this is the harness's own mistake.
  if (binary === undefined) throw new Error(`--impl-binary names no driver for ${architecture.name}`);
  return binary;
}

export const binaryImplementation: ImplementationAdapter = {
  name: "binary",
  tiers: ["host", "user", "system"],
  takesDefines: false,
  architecturesOf: (spec) => (spec.binaries ?? []).map((binary) => binary.architecture),
  validate: (spec) => {
    for (const binary of spec.binaries ?? []) {
      const why = whyNotDriver(binary);
      if (why) throw new UsageError(`--impl-binary: ${binary.architecture}=${binary.path}: ${why}`);
    }
  },
  replayOptions: (spec) => ` --impl-binary ${shellWord((spec.binaries ?? []).map((binary) => `${binary.architecture}=${binary.path}`).join(","))}`,
  label: () => "binary",
  // A program of someone else's build: nothing the suite could ask says its version honestly.
  version: async () => "unknown",
  driverCommand: async (spec, architecture) => ({ program: binaryFor(spec, architecture).path, args: ["--driver"] }),
  requiredTools: () => [],
  toolchain: async () => "an external static driver: its toolchain is its own",
};
