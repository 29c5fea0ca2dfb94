/**
 * --libc-root: the libc driver built against an installed glibc or musl
 * tree instead of a pinned release, through the same build as a release's
 * (libc-driver.ts). The tree is what `make install DESTDIR=DIR prefix=/usr`
 * (glibc, musl) or musl's `./configure --prefix=DIR && make install` leaves:
 *
 *   DIR[/usr]/include/               the libc's headers (spawn.h, ...)
 *   DIR[/usr]/lib[64]/               crt1.o, crti.o, crtn.o, libc.a
 *
 * What a libc install does not carry, the kernel headers (<linux/...>,
 * <asm/...>) and libgcc, come from the cross packages of the first pinned
 * musl release the lock has for the architecture (they hold no libc on the
 * include path). A tree is for one architecture, read from its crt1.o.
 *
 * Cached by content: the build is keyed by a digest of the tree's headers
 * and those four files, with the release's pinned packages, the driver's
 * sources, the flags and clang's version.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { findArchitecture, type Architecture, type ArchitectureName } from "../../src/architectures.ts";
import { architectureOfObject, glibcVersionOfFeatures, muslVersionOfArchive, parseLibcRootOption } from "../../src/libc-root.ts";
import { releaseName, releasesOf, type RuntimeRelease } from "../../src/runtime-releases.ts";
import { UsageError } from "../../src/usage-error.ts";
import { isDirectory, readFileHead } from "../process/files.ts";
import { ensureRelease, releaseUnavailable, type ReleaseRoot } from "../toolchain/runtime-releases.ts";
import { buildLibcDriverAgainst, crossSupport, releaseProvenance, type LibcLink, type LibcRuntime } from "./libc-driver.ts";

/** The files the link takes from the tree's library directory. */
export const libcRootLibraryFiles = ["crt1.o", "crti.o", "crtn.o", "libc.a"] as const;

/** What the accepted layout is, for the errors that find another. */
const layoutText = "an installed tree: DIR[/usr]/include/ with the libc's headers and DIR[/usr]/lib[64]/ with crt1.o, crti.o, crtn.o and libc.a (make install DESTDIR=DIR prefix=/usr)";

export interface LibcTree {
  runtime: LibcRuntime;
  /** As given (absolute). */
  root: string;
  architecture: ArchitectureName;
  includeDirectory: string;
  libraryDirectory: string;
}

/** The first bytes of a file: an object's ELF header. */
const head = (path: string) => readFileHead(path, 4096);

/** Which libc a tree's headers are: glibc installs gnu/libc-version.h, musl its generated bits/alltypes.h. */
function libcOfHeaders(includeDirectory: string): LibcRuntime | undefined {
  if (existsSync(join(includeDirectory, "gnu", "libc-version.h"))) return "glibc";
  if (existsSync(join(includeDirectory, "bits", "alltypes.h"))) return "musl";
  return undefined;
}

/** The tree at `root` for this runtime, or a sentence saying what is wrong with it (the flag's error without the flag). */
export function readLibcTree(runtime: LibcRuntime, root: string, named?: ArchitectureName): LibcTree | string {
  if (!existsSync(root)) return "no such directory";
  if (!isDirectory(root)) return "not a directory";
  const prefix = [root, join(root, "usr")].find((candidate) => isDirectory(join(candidate, "include")));
  if (prefix === undefined) return `no include/ or usr/include/ (expected ${layoutText})`;
  const includeDirectory = join(prefix, "include");
  const libraryDirectory = ["lib", "lib64"].map((name) => join(prefix, name)).find((candidate) => existsSync(join(candidate, "libc.a")));
  if (libraryDirectory === undefined) return `no libc.a in ${relative(root, join(prefix, "lib")) || "lib"}/ or ${relative(root, join(prefix, "lib64")) || "lib64"}/ (expected ${layoutText})`;
  const missing = libcRootLibraryFiles.filter((name) => !existsSync(join(libraryDirectory, name)));
  if (missing.length) return `no ${missing.join(", ")} beside ${relative(root, join(libraryDirectory, "libc.a"))} (expected ${layoutText})`;
  if (!existsSync(join(includeDirectory, "spawn.h"))) return `no spawn.h in ${relative(root, includeDirectory)}/ (expected ${layoutText})`;
  const headers = libcOfHeaders(includeDirectory);
  if (headers === undefined) return `${relative(root, includeDirectory)}/ has neither glibc's gnu/libc-version.h nor musl's bits/alltypes.h`;
  if (headers !== runtime) return `a ${headers} tree (${relative(root, includeDirectory)}/${headers === "glibc" ? "gnu/libc-version.h" : "bits/alltypes.h"}), not ${runtime}`;
  const crt1 = join(libraryDirectory, "crt1.o");
  const architecture = architectureOfObject(head(crt1));
  if (!findArchitecture(architecture)) return `${relative(root, crt1)}: ${architecture}`;
  if (named !== undefined && architecture !== named) return `a tree for ${architecture} (${relative(root, crt1)}), not ${named}`;
  return { runtime, root, architecture: architecture as ArchitectureName, includeDirectory, libraryDirectory };
}

const trees = new Map<string, LibcTree[]>();

/**
 * The trees --libc-root names (spec.libcRoot, absolute), each checked; a
 * UsageError naming the flag, the directory and what is wrong with it.
 * Read once per process and option text.
 */
export function libcTreesOf(runtime: LibcRuntime, option: string, flag = "--libc-root"): LibcTree[] {
  const key = `${runtime}\0${option}`;
  let found = trees.get(key);
  if (found === undefined) {
    found = parseLibcRootOption(flag, option).map((entry) => {
      const tree = readLibcTree(runtime, entry.path, entry.architecture);
      if (typeof tree === "string") throw new UsageError(`${flag}: ${entry.architecture ? `${entry.architecture}=` : ""}${entry.path}: ${tree}`);
      return tree;
    });
    const twice = found.find((tree, index) => found!.findIndex((other) => other.architecture === tree.architecture) !== index);
    if (twice) throw new UsageError(`${flag}: two trees for ${twice.architecture} (${found.filter((tree) => tree.architecture === twice.architecture).map((tree) => tree.root).join(", ")})`);
    trees.set(key, found);
  }
  return found;
}

/** The tree for this architecture; planTargets plans only the trees' architectures, so none is the harness's own mistake. */
export function libcTreeFor(runtime: LibcRuntime, option: string, architecture: ArchitectureName): LibcTree {
  const tree = libcTreesOf(runtime, option).find((candidate) => candidate.architecture === architecture);
  if (tree === undefined) throw new Error(`--libc-root names no tree for ${architecture}`);
  return tree;
}

/** Every regular file under `directory`, by path relative to it, sorted. */
function filesUnder(directory: string): string[] {
  return readdirSync(directory, { recursive: true, encoding: "utf8" })
    .filter((path) => statSync(join(directory, path)).isFile())
    .sort();
}

const digests = new Map<string, string>();

/** sha256 over what the link reads of the tree: every header (path and content) and the four library files. Once per process. */
export function libcTreeDigest(tree: LibcTree): string {
  let digest = digests.get(tree.root);
  if (digest === undefined) {
    const hash = createHash("sha256");
    const files = [
      ...filesUnder(tree.includeDirectory).map((path) => join(tree.includeDirectory, path)),
      ...libcRootLibraryFiles.map((name) => join(tree.libraryDirectory, name)),
    ];
    for (const file of files) {
      const content = readFileSync(file);
      const name = relative(tree.root, file);
      hash.update(`${name.length}:${name}${content.length}:`).update(content);
    }
    digest = hash.digest("hex");
    digests.set(tree.root, digest);
  }
  return digest;
}

/** The tree's version as it says it: glibc's <features.h>, musl's version string in libc.a; undefined when it says none. */
export function libcTreeVersion(tree: LibcTree): string | undefined {
  if (tree.runtime === "glibc") {
    const features = join(tree.includeDirectory, "features.h");
    return existsSync(features) ? glibcVersionOfFeatures(readFileSync(features, "utf8")) : undefined;
  }
  return muslVersionOfArchive(readFileSync(join(tree.libraryDirectory, "libc.a")));
}

/** The release whose cross packages give the kernel headers and libgcc for this architecture: the first musl release the lock has for it. */
export function supportRelease(architecture: Architecture): RuntimeRelease | undefined {
  return releasesOf("musl").find((release) => releaseUnavailable(release, architecture) === undefined);
}

/** The link against the tree: its headers first, then the release's kernel headers; its crt files and libc.a; the release's libgcc. */
export function libcTreeLink(tree: LibcTree, support: ReleaseRoot): LibcLink {
  const { gccDirectory, crossIncludes } = crossSupport(support.root);
  return {
    runtime: tree.runtime,
    name: `${tree.runtime}-root`,
    layout: { includes: [tree.includeDirectory, crossIncludes], libcDirectory: tree.libraryDirectory, gccDirectory },
    // The tree by content, not by path: a copy of the same tree is found again.
    provenance: [`${tree.runtime} tree sha256:${libcTreeDigest(tree)}`, ...releaseProvenance(support).map((line) => `${releaseName(support.release)}: ${line}`)],
  };
}

/** Builds (or finds built) the driver against the tree; resolves with its path and the release that gave the kernel headers and libgcc. */
export async function buildLibcTreeDriver(tree: LibcTree, architecture: Architecture): Promise<{ program: string; support: ReleaseRoot }> {
  const release = supportRelease(architecture);
  if (release === undefined) throw new Error(`no musl release of the lock has ${architecture.name}: nothing gives its kernel headers and libgcc`);
  const support = await ensureRelease(release, architecture);
  return { program: await buildLibcDriverAgainst(libcTreeLink(tree, support), architecture), support };
}
