/**
 * The implementations a target can put under the properties: one adapter
 * file each (./<name>.ts, the driver itself in impls/<name>/) and one row
 * here. Each is a program that speaks the driver protocol (docs/protocol.md).
 *
 *   reference  native/: the suite's own clone wrappers; takes --define (mutants)
 *   go         impls/go: syscall.ForkExec, any Go toolchain (--goroot)
 *   glibc      impls/glibc: posix_spawn, against a pinned glibc release (glibc@2.41)
 *   musl       the same driver source, against a pinned musl release (musl@1.2.5)
 *   python     impls/python: CPython's subprocess and os.posix_spawn, a pinned release in its own userland (python@3.13)
 *   node       impls/node: Node's child_process (libuv), host tier
 *   cmd        --impl-cmd "COMMAND": any program of this machine, host tier
 *   binary     --impl-binary ARCH=PATH,...: a static driver per architecture, every tier
 */
import type { Architecture } from "../../src/architectures.ts";
import type { ImplementationSpec } from "../../src/implementation-spec.ts";
import { coreTools, systemTierTools, type RunTool } from "../toolchain/required-tools.ts";
import type { DriverCommand, ImplementationAdapter } from "./adapter.ts";
import { binaryImplementation } from "./binary.ts";
import { commandImplementation } from "./cmd.ts";
import { glibcImplementation } from "./glibc.ts";
import { goImplementation } from "./go.ts";
import { muslImplementation } from "./musl.ts";
import { nodeImplementation } from "./node.ts";
import { pythonImplementation } from "./python.ts";
import { referenceImplementation } from "./reference.ts";

const table: readonly ImplementationAdapter[] = [referenceImplementation, goImplementation, glibcImplementation, muslImplementation, pythonImplementation, nodeImplementation, commandImplementation, binaryImplementation];

/** The names --impl takes: every row but cmd and binary, which --impl-cmd and --impl-binary select with their programs. */
export const implementationNames: readonly string[] = table.map((row) => row.name).filter((name) => name !== commandImplementation.name && name !== binaryImplementation.name);

export function implementationOf(spec: ImplementationSpec): ImplementationAdapter {
  const row = table.find((candidate) => candidate.name === spec.name);
  if (row === undefined) throw new Error(`no implementation named '${spec.name}' (known: ${table.map((candidate) => candidate.name).join(",")})`);
  return row;
}

/** Every row's name: what a known finding's `implementation` may say. */
export const everyImplementationName: readonly string[] = table.map((row) => row.name);

/** The gate options that select this implementation, for replay commands. */
export function implementationOptions(spec: ImplementationSpec): string {
  return implementationOf(spec).replayOptions(spec);
}

/** The name a report and a table show: "reference", "go", "go@<goroot>", "cmd". */
export function implementationLabel(spec: ImplementationSpec): string {
  return implementationOf(spec).label(spec);
}

/** The version a known finding's pattern is matched against ("go1.19.8", "2.36", "v20.19.0"; "unknown" for cmd). */
export function implementationVersion(spec: ImplementationSpec): Promise<string> {
  return implementationOf(spec).version(spec);
}

export function driverCommand(spec: ImplementationSpec, architecture: Architecture, defines: readonly string[]): Promise<DriverCommand> {
  return implementationOf(spec).driverCommand(spec, architecture, defines);
}

/** The implementation's toolchain for the report, undefined for the suite's own build (the reference). */
export function implementationToolchain(spec: ImplementationSpec | undefined, architecture: Architecture): Promise<string | undefined> {
  const implementation = spec ?? { name: referenceImplementation.name };
  return implementationOf(implementation).toolchain(implementation, architecture);
}

/** What a run of these targets needs: the core tools, the system tier's when it is among them, and each implementation's. */
export function toolsFor(specs: readonly { tier: string; architecture: Architecture; implementation?: ImplementationSpec }[]): RunTool[] {
  const system = specs.filter((spec) => spec.tier === "system").map((spec) => spec.architecture);
  const implementations = specs.flatMap((spec) => (spec.implementation ? implementationOf(spec.implementation).requiredTools(spec.implementation) : []));
  return [...coreTools(), ...(system.length ? systemTierTools(system) : []), ...implementations];
}

/** `setup --impl-tools`: each implementation's tools for its tests, installed once before tests run in parallel. */
export async function installImplementationToolsForTests(): Promise<void> {
  for (const row of table) await row.installForTests?.();
}
