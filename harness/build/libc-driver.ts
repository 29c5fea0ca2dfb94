/**
 * The posix_spawn driver (impls/glibc/driver.c, one source for both libcs)
 * built statically against one pinned libc release (or, through the same
 * build, an installed tree: libc-root.ts): clang-19 and ld.lld-19
 * (the project's compiler) with -nostdinc and -nostdlib, so that what is
 * compiled against and linked is exactly the release's unpacked root
 * (ensureRelease): its headers and clang's own resource headers, its
 * crt1.o/crti.o/crtn.o and libc.a, libgcc.a/libgcc_eh.a and crtbeginT.o/
 * crtend.o from the same suite's cross libgcc. No host gcc, no host libc.
 *
 * Cached by content like the native build (build.ts): build/<release>-<arch>-<hash>/
 * is never rebuilt while the sources, the release's pinned packages (name,
 * version, sha256), the flags and clang's version are the same.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Architecture } from "../../src/architectures.ts";
import { releaseName, type RuntimeRelease } from "../../src/runtime-releases.ts";
import { clangCommand, clangVersion, compile } from "../toolchain/clang.ts";
import { ensureRelease, type ReleaseRoot } from "../toolchain/runtime-releases.ts";
import { spawnSyncDyingWithHarness } from "../process/dies-with-harness.ts";
import { projectRoot } from "../process/project-root.ts";
import { buildRoot, cachedBuild } from "./build.ts";

export type LibcRuntime = "glibc" | "musl";

/** The one driver source of both libcs (what differs is behind #ifdef __GLIBC__), and what it shares with the reference: the protocol's encodings and the signal storm. */
export const libcDriverSources = {
  driver: join(projectRoot, "impls", "glibc", "driver.c"),
  codec: join(projectRoot, "native", "codec.c"),
  codecHeader: join(projectRoot, "native", "codec.h"),
  startupCheck: join(projectRoot, "impls", "glibc", "startup-check.c"),
  storm: join(projectRoot, "native", "signal-storm.c"),
  stormHeader: join(projectRoot, "native", "signal-storm.h"),
  hostedSyscalls: join(projectRoot, "native", "hosted-syscalls.h"),
} as const;

/** The trivial program linked like the driver, next to it in the build directory (harness/targets/startup-check.ts runs it). */
export const libcStartupCheckName = "startup-check";

export function libcDriverName(runtime: LibcRuntime): string {
  return `vforkcheck-${runtime}-driver`;
}

/** Where the link finds what it needs. */
export interface LibcLayout {
  /** -isystem directories after clang's resource headers, in order. */
  includes: string[];
  /** crt1.o, crti.o, crtn.o, libc.a. */
  libcDirectory: string;
  /** libgcc.a, libgcc_eh.a, crtbeginT.o, crtend.o. */
  gccDirectory: string;
}

/**
 * What the driver is linked against: a release's root, or an installed
 * tree with a release's kernel headers and libgcc (harness/build/libc-root.ts).
 */
export interface LibcLink {
  runtime: LibcRuntime;
  /** "musl@1.2.3", "musl-root": the build directory's prefix, and the name in messages. */
  name: string;
  layout: LibcLayout;
  /** One line per input that identifies it (a pinned package, a tree's digest): part of the cache key and of build.log. */
  provenance: string[];
}

function onlyEntry(directory: string, matching: (name: string) => boolean, what: string): string {
  const names = existsSync(directory) ? readdirSync(directory).filter(matching) : [];
  if (names.length !== 1) throw new Error(`${directory}: expected one ${what}, found ${names.length ? names.join(", ") : "none"}`);
  return names[0]!;
}

/** What a libc install does not carry: the cross libgcc and the kernel headers, as a release's Debian packages unpack them. */
export interface CrossSupport {
  /** usr/lib/gcc-cross/<gnu triple>/<gcc major>/ */
  gccDirectory: string;
  /** usr/<gnu triple>/include/: the cross kernel headers (and, in a glibc release, the cross glibc's). */
  crossIncludes: string;
}

/** The cross libgcc in usr/lib/gcc-cross/<gnu triple>/<gcc major>/, the cross kernel headers under usr/<gnu triple>/include/. */
export function crossSupport(root: string): CrossSupport {
  const gccCross = join(root, "usr", "lib", "gcc-cross");
  const triple = onlyEntry(gccCross, () => true, "cross libgcc triple");
  const gccDirectory = join(gccCross, triple, onlyEntry(join(gccCross, triple), (name) => /^[0-9]+$/.test(name), "gcc version"));
  return { gccDirectory, crossIncludes: join(root, "usr", triple, "include") };
}

/**
 * The layout Debian's packages unpack to: crossSupport's, with a cross
 * glibc under usr/<gnu triple>/; musl-dev in usr/lib/<musl triple>/ with its
 * headers in usr/include/<musl triple>/.
 */
export function libcLayout(runtime: LibcRuntime, root: string): LibcLayout {
  const { gccDirectory, crossIncludes } = crossSupport(root);
  if (runtime === "glibc") return { includes: [crossIncludes], libcDirectory: join(dirname(crossIncludes), "lib"), gccDirectory };
  const musl = onlyEntry(join(root, "usr", "lib"), (name) => /-linux-musl/.test(name), "musl triple");
  // musl's headers first: the kernel headers only fill in <linux/...> and <asm/...>.
  return { includes: [join(root, "usr", "include", musl), crossIncludes], libcDirectory: join(root, "usr", "lib", musl), gccDirectory };
}

/** The compiler flags, apart from paths: part of the cache key. */
export function libcCompilerFlags(architecture: Architecture): string[] {
  return [`--target=${architecture.clangTarget}`, ...libcArchitectureFlags(architecture), "-O2", "-Wall", "-Wextra", "-DVFC_HOSTED", "-nostdinc", "-static", "-nostdlib", "-fuse-ld=lld"];
}

/**
 * The row's flags that are about the ABI, not about the freestanding build:
 * arm's hard float is Debian's armhf; mips64le's -fno-pic -mno-abicalls -G0
 * exist for a binary without a libc that sets $gp, and would not link with
 * Debian's abicalls libc.a.
 */
function libcArchitectureFlags(architecture: Architecture): string[] {
  return architecture.name === "mips64le" ? [] : architecture.cflags;
}

let resourceDirectory: string | undefined;

/** clang's own headers (stddef.h, stdarg.h): the only ones not from the release. */
function clangResourceIncludes(): string {
  if (resourceDirectory === undefined) {
    const run = spawnSyncDyingWithHarness(clangCommand, ["-print-resource-dir"], { encoding: "utf8", timeout: 60_000 });
    if (run.status !== 0) throw new Error(`${clangCommand} -print-resource-dir failed: ${(run.stderr ?? String(run.error)).trim()}`);
    resourceDirectory = join(run.stdout.trim(), "include");
  }
  return resourceDirectory;
}

/** In sourceNames' order. */
function readSources(): Buffer[] {
  const { driver, codec, codecHeader, startupCheck, storm, stormHeader, hostedSyscalls } = libcDriverSources;
  return [driver, codec, codecHeader, startupCheck, storm, stormHeader, hostedSyscalls].map((path) => readFileSync(path));
}

/** One line per pinned package of the release: what keys a build against it. */
export function releaseProvenance(release: ReleaseRoot): string[] {
  return release.packages.map((record) => `${record.packageName} ${record.version} sha256:${record.sha256}`);
}

/** The cache key: sources, target and flags, clang's version, and what the driver is linked against (its name and provenance). */
export function linkCacheKey(sources: readonly Buffer[], architecture: Architecture, name: string, provenance: readonly string[], clang: string): string {
  const hash = createHash("sha256");
  for (const source of sources) hash.update(`${source.length}:`).update(source);
  hash.update(JSON.stringify({ release: name, arch: architecture.name, flags: libcCompilerFlags(architecture) }));
  hash.update(clang);
  for (const line of provenance) hash.update(`${line}\n`);
  return hash.digest("hex").slice(0, 16);
}

/** The cache key of a build against a release: keyed by each of its pinned packages. */
export function libcCacheKey(sources: readonly Buffer[], architecture: Architecture, release: ReleaseRoot, clang: string): string {
  return linkCacheKey(sources, architecture, releaseName(release.release), releaseProvenance(release), clang);
}

/**
 * Builds (or finds already built) the driver against this release for this
 * architecture; resolves with the binary's path. Throws
 * ReleaseUnavailableError (ensureRelease) where the registry has no such release.
 */
export async function buildLibcDriver(release: RuntimeRelease & { runtime: LibcRuntime }, architecture: Architecture): Promise<string> {
  const root = await ensureRelease(release, architecture);
  return buildLibcDriverAgainst({ runtime: release.runtime, name: releaseName(release), layout: libcLayout(release.runtime, root.root), provenance: releaseProvenance(root) }, architecture);
}

/** Builds (or finds already built, by content) the driver and its startup check against `link` for this architecture; resolves with the driver's path. */
export async function buildLibcDriverAgainst(link: LibcLink, architecture: Architecture): Promise<string> {
  const sources = readSources();
  const directory = join(buildRoot, `${link.name}-${architecture.name}-${linkCacheKey(sources, architecture, link.name, link.provenance, await clangVersion())}`);
  await cachedBuild(directory, `the ${link.name} driver for ${architecture.name}`, (output) => buildInto(output, sources, link, architecture));
  return join(directory, libcDriverName(link.runtime));
}

const sourceNames = ["driver.c", "codec.c", "codec.h", "startup-check.c", "signal-storm.c", "signal-storm.h", "hosted-syscalls.h"] as const;

/** The sources as they were hashed, written into `directory` (a concurrent edit cannot land under the wrong key). */
async function writeSources(directory: string, sources: readonly Buffer[]): Promise<void> {
  for (const [index, name] of sourceNames.entries()) await writeFile(join(directory, name), sources[index]!);
}

/**
 * One link line for the driver and its startup check, so that the check
 * measures the driver's link: gcc's order for -static (crt1, crti,
 * crtbeginT, the objects, the libraries as a group, crtend, crtn).
 */
function linkArguments(link: LibcLink, architecture: Architecture, directory: string, output: string, objects: readonly string[]): string[] {
  const libc = (name: string) => join(link.layout.libcDirectory, name);
  const gcc = (name: string) => join(link.layout.gccDirectory, name);
  return [
    ...libcCompilerFlags(architecture),
    "-isystem", clangResourceIncludes(),
    ...link.layout.includes.flatMap((include) => ["-isystem", include]),
    // The shared sources' own headers only: -iquote keeps <spawn.h> the libc's.
    "-iquote", directory,
    "-o", join(directory, output),
    libc("crt1.o"), libc("crti.o"), gcc("crtbeginT.o"),
    ...objects.map((name) => join(directory, name)),
    "-Wl,--start-group", gcc("libgcc.a"), gcc("libgcc_eh.a"), libc("libc.a"), "-Wl,--end-group",
    gcc("crtend.o"), libc("crtn.o"),
  ];
}

/** Compiles and links into `output`, a scratch directory cachedBuild renames into place. */
async function buildInto(output: string, sources: readonly Buffer[], link: LibcLink, architecture: Architecture): Promise<void> {
  await writeSources(output, sources);
  const args = linkArguments(link, architecture, output, libcDriverName(link.runtime), ["driver.c", "codec.c", "signal-storm.c"]);
  const warnings = await compile(args, projectRoot, `the ${link.name} driver for ${architecture.name}`);
  await compile(linkArguments(link, architecture, output, libcStartupCheckName, ["startup-check.c"]), projectRoot, `the ${link.name} startup check for ${architecture.name}`);
  for (const name of sourceNames) await rm(join(output, name));
  await writeFile(join(output, "build.log"), `${[clangCommand, ...args].join(" ")}\n${await clangVersion()}${link.provenance.join("\n")}\n${warnings}`);
}
