/**
 * The cross build of native/, cached by content: one clang-19 builds all
 * nine architectures (freestanding, no sysroot). A build lives in
 * <cache>/build/<arch>-<kind>-<hash>/ and is never rebuilt while its inputs
 * are unchanged and its files whole.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { architectures, findArchitecture, type Architecture, type ArchitectureName } from "../../src/architectures.ts";
import { clangCommand, clangVersion, compile } from "../toolchain/clang.ts";
import { hashEveryFile, usableEntry } from "../toolchain/cache-entry.ts";
import { buildAtomically, cacheDirectory } from "../toolchain/debian-archive.ts";
import { settleWithLimit } from "../process/limited-parallel.ts";
import { projectRoot } from "../process/project-root.ts";
import { compilationUnits, nativeTreeDigest, type NativeKind } from "./native-sources.ts";

export { compilerRunCount, CompileError } from "../toolchain/clang.ts";
export type { NativeKind } from "./native-sources.ts";

export interface BuildRequest {
  arch: ArchitectureName;
  kind: NativeKind;
  /** -D<define> each, e.g. a deliberate-bug variant: "MUTANT_RA_ON_STACK". */
  defines?: readonly string[];
}

/**
 * Every build of every stage (native/, the Go and libc drivers, the ISA
 * probes, the initramfs images) goes here, keyed by content: in the user's
 * cache, so an installed package never writes into itself and checkouts
 * share what they built alike.
 */
export const buildRoot = join(cacheDirectory(), "build");

const outputNames: Record<NativeKind, string> = {
  static: "vforkcheck-driver",
  shared: "libvforkcheck.so",
  selftest: "vforkcheck-selftest",
};

/** Builds in flight in this process, so concurrent identical requests share one compiler run. */
const inFlight = new Map<string, Promise<void>>();

/** Builds (or finds already built) one native artifact; resolves with its path. */
export async function buildNative(request: BuildRequest): Promise<string> {
  const architecture = findArchitecture(request.arch);
  if (architecture === undefined) {
    throw new Error(`unknown architecture "${request.arch}"; known: ${architectures.map((known) => known.name).join(", ")}`);
  }
  if (request.kind === "shared" && architecture.name !== "amd64") {
    // The library is loaded into this (amd64) node process, so only amd64 makes sense.
    throw new Error(`a shared library is built for amd64 only, not ${architecture.name}`);
  }
  if (!existsSync(join(projectRoot, "native", "arch", `${architecture.name}.h`))) {
    throw new Error(`no native/arch/${architecture.name}.h: architecture ${architecture.name} has no assembly yet`);
  }

  const args = compilerArguments(architecture, request.kind === "shared" ? sharedLinkage : staticLinkage, request.defines ?? [], compilationUnits(request.kind));
  return buildCached(join(buildRoot, `${architecture.name}-${request.kind}-${await cacheKey(args)}`), outputNames[request.kind], args, `${architecture.name} ${request.kind}`);
}

/** A static freestanding program of other sources, built like the driver (the same target flags and linkage). */
export interface ProgramRequest {
  arch: ArchitectureName;
  /** The program's file name, and its build directory's prefix. */
  name: string;
  /** C files: relative to the project root (native/codec.c) or absolute; their contents key the cache. */
  sources: readonly string[];
  defines?: readonly string[];
}

/** Builds (or finds already built) a static program of request.sources with native/ on the include path; resolves with its path. */
export async function buildStaticProgram(request: ProgramRequest): Promise<string> {
  const architecture = findArchitecture(request.arch);
  if (architecture === undefined) throw new Error(`unknown architecture "${request.arch}"`);
  const args = compilerArguments(architecture, staticLinkage, request.defines ?? [], request.sources);
  const contents = createHash("sha256");
  for (const source of request.sources) contents.update(await readFile(resolve(projectRoot, source)));
  return buildCached(join(buildRoot, `${architecture.name}-${request.name}-${await cacheKey(args, contents.digest("hex"))}`), request.name, args, `${architecture.name} ${request.name}`);
}

/** One compiler run per output directory, however many ask for it at once. */
async function buildCached(directory: string, outputName: string, args: readonly string[], what: string): Promise<string> {
  await cachedBuild(directory, what, async (output) => {
    const fullArgs = [...args, "-o", join(output, outputName)];
    const warnings = await compile(fullArgs, projectRoot, what);
    await writeFile(join(output, "compile.log"), `${[clangCommand, ...fullArgs].join(" ")}\n${warnings}`);
  });
  return join(directory, outputName);
}

const buildLog = (line: string) => process.stderr.write(`vforkcheck build: ${line}\n`);

/**
 * A build directory of `buildRoot`, keyed by content: used when it is whole
 * (checked against its manifest once per process, cache-entry.ts), else
 * built by `build` into a scratch directory and renamed into place
 * (buildAtomically: a killed build leaves only a temporary that the next
 * run removes; when processes race, the first rename wins). Concurrent
 * requests in this process share one build.
 */
export function cachedBuild(directory: string, what: string, build: (output: string) => Promise<void>): Promise<void> {
  let pending = inFlight.get(directory);
  if (pending === undefined) {
    pending = (async () => {
      if (await usableEntry(directory, what, hashEveryFile, buildLog)) return;
      await buildAtomically(directory, async (_scratch, output) => build(output));
    })();
    inFlight.set(directory, pending);
    void pending.finally(() => inFlight.delete(directory)).catch(() => {});
  }
  return pending;
}
export type BuildProgress =
  | { arch: ArchitectureName; state: "building" }
  | { arch: ArchitectureName; state: "built"; path: string }
  | { arch: ArchitectureName; state: "failed"; error: Error };

/**
 * Builds the static driver for each architecture, as many at a time as there
 * are cores (clang is CPU-bound). Rejects after all have finished if any failed.
 */
export async function buildAll(
  archs: readonly ArchitectureName[],
  onProgress: (progress: BuildProgress) => void = () => {},
): Promise<Map<ArchitectureName, string>> {
  const results = await settleWithLimit(archs, availableParallelism(), async (arch) => {
    onProgress({ arch, state: "building" });
    try {
      const path = await buildNative({ arch, kind: "static" });
      onProgress({ arch, state: "built", path });
      return path;
    } catch (error) {
      onProgress({ arch, state: "failed", error: error instanceof Error ? error : new Error(String(error)) });
      throw error;
    }
  });
  const failures = results.flatMap((result, index) =>
    result.status === "rejected" ? [`${archs[index]}: ${result.reason instanceof Error ? result.reason.message : String(result.reason)}`] : [],
  );
  // One line (clang's lines joined), since the caller prints the first line of an error.
  if (failures.length > 0) throw new Error(`native build failed for ${failures.length} of ${archs.length}: ${failures.join("; ").replace(/\n+/g, " | ")}`);
  return new Map(archs.map((arch, index) => [arch, (results[index] as PromiseFulfilledResult<string>).value]));
}

const sharedLinkage = ["-shared", "-fPIC", "-DVFC_SHARED_LIBRARY"];
const staticLinkage = ["-static", "-Wl,-e,_start"];

/** Everything but the output path (which is a temporary directory), so it can key the cache. */
function compilerArguments(architecture: Architecture, linkage: readonly string[], defines: readonly string[], sources: readonly string[]): string[] {
  return [
    `--target=${architecture.clangTarget}`,
    ...architecture.cflags,
    "-O2", "-ffreestanding", "-fno-stack-protector", "-fno-builtin", "-nostdlib", "-fuse-ld=lld",
    ...linkage,
    "-Wall", "-Wextra",
    `-DARCH_HEADER="arch/${architecture.name}.h"`,
    "-I", "native",
    ...defines.map((define) => `-D${define}`),
    ...architecture.ldflags,
    ...sources,
  ];
}

/** The sources (native/ and any others' digest), the arguments and the compiler's identity: what the output depends on. */
async function cacheKey(args: readonly string[], otherSources = ""): Promise<string> {
  return createHash("sha256")
    .update(nativeTreeDigest())
    .update(otherSources)
    .update(JSON.stringify(args))
    .update(await clangVersion())
    .digest("hex")
    .slice(0, 16);
}
