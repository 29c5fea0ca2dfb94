/**
 * What each test file needs beyond the core tools, from one table
 * (test/requirements.json, docs/test-requirements.md): the architectures
 * whose VMs it boots, the runtime releases it builds per architecture, and
 * other commands. npm test's set-up (test/setup.ts) installs the union of
 * the table before ava starts. While ava runs, $VFORKCHECK_TEST_REQUIREMENTS
 * names the table, and a system target or a release outside the union is
 * refused with one line: a test that needs more than the set-up provides
 * fails on every machine, not only on a fresh one. Without the variable
 * nothing is checked.
 */
import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { findArchitecture, type Architecture, type ArchitectureName } from "../../src/architectures.ts";
import { findRelease, isRuntimeName, releaseName, releaseTargetKey, type RuntimeRelease } from "../../src/runtime-releases.ts";
import { projectRoot } from "../process/project-root.ts";

/** A command a test runs, and the Debian package that provides it; an absolute command (a script's #! line) must be that very file. */
export interface TestTool {
  command: string;
  debianPackage: string;
}

/** Names the table for the set-up and, set by ava's configuration, for the guard in the test workers. */
export const testRequirementsVariable = "VFORKCHECK_TEST_REQUIREMENTS";

/** The table's path as written in package.json, relative to the project's root. */
export const defaultTestRequirementsFile = "test/requirements.json";

/** A table that cannot be read or is malformed: one line, exit 2 in the set-up. */
export class TestRequirementsError extends Error {}

/** A target or release a test started that the table does not declare: never a skip, always a failure. */
export class UndeclaredTestRequirementError extends Error {}

/** One test file's row. */
export interface TestFileNeeds {
  /** Architectures whose system tier (kernel and qemu-system) the file boots. */
  system: Architecture[];
  /** Releases the file builds or runs, with the architectures it builds them for. */
  releases: { release: RuntimeRelease; architectures: Architecture[] }[];
  tools: TestTool[];
  /** Trees the file's tests build from a release and share (test/setup.ts names them), built once before the tests. */
  builds: string[];
}

export type TestRequirements = Map<string, TestFileNeeds>;

/** What set-up installs for the whole table; a release appears once per cache entry (releaseTargetKey). */
export interface TestRequirementsUnion {
  system: Architecture[];
  releases: { release: RuntimeRelease; architecture: Architecture }[];
  tools: TestTool[];
  builds: string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function architectureList(value: unknown, where: string): Architecture[] {
  if (!Array.isArray(value) || value.length === 0) throw new TestRequirementsError(`${where}: not a non-empty list of architecture names`);
  return value.map((name, index) => {
    const architecture = typeof name === "string" ? findArchitecture(name) : undefined;
    if (architecture === undefined) throw new TestRequirementsError(`${where}[${index}]: unknown architecture ${JSON.stringify(name)}`);
    return architecture;
  });
}

function releaseOf(name: string, where: string): RuntimeRelease {
  const [runtime, version, ...rest] = name.split("@");
  const release = runtime !== undefined && isRuntimeName(runtime) && version !== undefined && rest.length === 0 ? findRelease(runtime, version) : undefined;
  if (release === undefined) throw new TestRequirementsError(`${where}: "${name}" is no release of src/runtime-releases.ts (NAME@VERSION)`);
  return release;
}

function toolOf(value: unknown, where: string): TestTool {
  if (!isRecord(value) || typeof value.command !== "string" || typeof value.debianPackage !== "string" || Object.keys(value).length !== 2) {
    throw new TestRequirementsError(`${where}: not {"command": ..., "debianPackage": ...}`);
  }
  return { command: value.command, debianPackage: value.debianPackage };
}

/** The table: an object from test file path to {system?, releases?, tools?}; a malformed one is a TestRequirementsError naming the place. */
export function parseTestRequirements(text: string, file: string): TestRequirements {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new TestRequirementsError(`${file}: not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!isRecord(parsed)) throw new TestRequirementsError(`${file}: not an object of test files`);
  const table: TestRequirements = new Map();
  for (const [testFile, row] of Object.entries(parsed)) {
    const where = `${file}: ${testFile}`;
    if (!isRecord(row)) throw new TestRequirementsError(`${where}: not an object`);
    const unknown = Object.keys(row).filter((key) => key !== "system" && key !== "releases" && key !== "tools" && key !== "builds");
    if (unknown.length > 0) throw new TestRequirementsError(`${where}: unknown field ${unknown.join(", ")} (known: system, releases, tools, builds)`);
    if (row.builds !== undefined && (!Array.isArray(row.builds) || row.builds.some((name) => typeof name !== "string" || name === "")))
      throw new TestRequirementsError(`${where}.builds: not a list of build names`);
    if (row.releases !== undefined && !isRecord(row.releases)) throw new TestRequirementsError(`${where}.releases: not an object of NAME@VERSION to architectures`);
    if (row.tools !== undefined && !Array.isArray(row.tools)) throw new TestRequirementsError(`${where}.tools: not a list`);
    table.set(testFile, {
      system: row.system === undefined ? [] : architectureList(row.system, `${where}.system`),
      releases: Object.entries(row.releases ?? {}).map(([name, architectures]) => ({ release: releaseOf(name, `${where}.releases`), architectures: architectureList(architectures, `${where}.releases.${name}`) })),
      tools: ((row.tools as unknown[] | undefined) ?? []).map((tool, index) => toolOf(tool, `${where}.tools[${index}]`)),
      builds: (row.builds as string[] | undefined) ?? [],
    });
  }
  return table;
}

/** Every row together, each thing once, in the table's order. */
export function testRequirementsUnion(table: TestRequirements): TestRequirementsUnion {
  const system = new Map<ArchitectureName, Architecture>();
  const releases = new Map<string, { release: RuntimeRelease; architecture: Architecture }>();
  const tools = new Map<string, TestTool>();
  const builds = new Set<string>();
  for (const needs of table.values()) {
    for (const name of needs.builds) builds.add(name);
    for (const architecture of needs.system) system.set(architecture.name, architecture);
    for (const { release, architectures } of needs.releases)
      for (const architecture of architectures) {
        const key = `${releaseName(release)} ${releaseTargetKey(release, architecture)}`;
        if (!releases.has(key)) releases.set(key, { release, architecture });
      }
    for (const tool of needs.tools) tools.set(`${tool.command} ${tool.debianPackage}`, tool);
  }
  return { system: [...system.values()], releases: [...releases.values()], tools: [...tools.values()], builds: [...builds] };
}

/** Why the union does not cover this architecture's system tier; undefined when it does. */
export function undeclaredSystemTarget(union: TestRequirementsUnion, architecture: Architecture, file: string): string | undefined {
  if (union.system.some((declared) => declared.name === architecture.name)) return undefined;
  return `${architecture.name}/system is not in ${file}, so npm test's set-up does not fetch its kernel and QEMU: add "${architecture.name}" to "system" of the test file that boots it`;
}

/** Why the union does not cover this release's cache entry for the architecture; undefined when it does. */
export function undeclaredRelease(union: TestRequirementsUnion, release: RuntimeRelease, architecture: Architecture, file: string): string | undefined {
  const key = releaseTargetKey(release, architecture);
  if (union.releases.some((declared) => releaseName(declared.release) === releaseName(release) && releaseTargetKey(declared.release, declared.architecture) === key)) return undefined;
  return `${releaseName(release)} for ${key} is not in ${file}, so npm test's set-up does not fetch it: add "${releaseName(release)}": ["${architecture.name}"] to "releases" of the test file that builds it`;
}

/** The table file a path names: as given when absolute, else from the project's root. */
export function testRequirementsPath(file: string): string {
  return isAbsolute(file) ? file : join(projectRoot, file);
}

/** Reads and parses the table; a file that cannot be read is a TestRequirementsError too. */
export function readTestRequirements(file: string): TestRequirements {
  let text: string;
  try {
    text = readFileSync(testRequirementsPath(file), "utf8");
  } catch (error) {
    throw new TestRequirementsError(`${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return parseTestRequirements(text, file);
}

const unions = new Map<string, TestRequirementsUnion>();

/** The union of the table $VFORKCHECK_TEST_REQUIREMENTS names, read once per process; undefined outside tests. */
function declaredUnion(): { file: string; union: TestRequirementsUnion } | undefined {
  const file = process.env[testRequirementsVariable];
  if (!file) return undefined;
  let union = unions.get(file);
  if (union === undefined) {
    union = testRequirementsUnion(readTestRequirements(file));
    unions.set(file, union);
  }
  return { file, union };
}

/** Called where a system target resolves its kernel and QEMU. */
export function refuseUndeclaredSystemTarget(architecture: Architecture): void {
  const declared = declaredUnion();
  const missing = declared && undeclaredSystemTarget(declared.union, architecture, declared.file);
  if (missing !== undefined) throw new UndeclaredTestRequirementError(missing);
}

/** Called where a release is ensured (fetched, or taken from the cache). */
export function refuseUndeclaredRelease(release: RuntimeRelease, architecture: Architecture): void {
  const declared = declaredUnion();
  const missing = declared && undeclaredRelease(declared.union, release, architecture, declared.file);
  if (missing !== undefined) throw new UndeclaredTestRequirementError(missing);
}
