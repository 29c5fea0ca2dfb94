/**
 * A musl built from source, installed as a tree for --libc-root: Debian's
 * musl source package of the default release (musl@1.2.3, bookworm: the
 * source of the musl-dev the lock pins, so the unpatched build should gate
 * as that release does), downloaded through the private apt (apt checks each
 * file against the signed Sources index) and checked against its .dsc's
 * Checksums-Sha256, then built with clang-19 for one architecture,
 * optionally with a bug put in src/process/posix_spawn.c (maskLeftBlocked,
 * signalsUnblocked).
 *
 * The whole library is built and installed, as a maintainer's tree is:
 * `configure`, `make`, `make install DESTDIR=...` (usr/include, usr/lib;
 * static only). About 20 s per architecture on an idle 2-core machine.
 *
 * Cache ($VFORKCHECK_CACHE or ~/.cache/vforkcheck):
 *   musl-source/<version>/          the checked, unpacked source (Debian's patches applied)
 *   musl-source/<arch>-<key>/       an installed tree; key: the .dsc's sha256, the patch,
 *                                   the target and clang's version
 * Each entry is built once (buildAtomically: a scratch directory renamed into place).
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cp } from "node:fs/promises";
import { join } from "node:path";
import type { Architecture } from "../../src/architectures.ts";
import { findRelease } from "../../src/runtime-releases.ts";
import { clangCommand, clangVersion } from "../../harness/toolchain/clang.ts";
import { buildAtomically, cacheDirectory, fetchOnce } from "../../harness/toolchain/debian-archive.ts";
import { run, unpackedDebianSource } from "./debian-source.ts";
import { lockedRelease } from "../../harness/toolchain/runtime-releases.ts";

/** The release whose source is built. */
export const muslSourceRelease = findRelease("musl")!;

/** A bug to put in the source: each `from` must occur once in src/process/posix_spawn.c. */
export interface SourcePatch {
  name: string;
  replacements: readonly (readonly [from: string, to: string])[];
}

/**
 * The child restores the parent's signal mask only when the attributes set
 * one (POSIX_SPAWN_SETSIGMASK): otherwise it execs with every signal still
 * blocked, as posix_spawn blocked them across the clone. signal-state's
 * guard sigmask-left-blocked.
 */
export const maskLeftBlocked: SourcePatch = {
  name: "mask-left-blocked",
  replacements: [
    [
      "pthread_sigmask(SIG_SETMASK, (attr->__flags & POSIX_SPAWN_SETSIGMASK)\n\t\t? &attr->__mask : &args->oldmask, 0);",
      "if (attr->__flags & POSIX_SPAWN_SETSIGMASK)\n\t\tpthread_sigmask(SIG_SETMASK, &attr->__mask, 0);",
    ],
  ],
};

/**
 * posix_spawn reads the signal mask but blocks nothing across the clone:
 * a signal that reaches the child before it reset its handlers runs the
 * parent's handler there, on memory it shares with the parent.
 * signal-storm's guard signals-unblocked.
 */
export const signalsUnblocked: SourcePatch = {
  name: "signals-unblocked",
  replacements: [["pthread_sigmask(SIG_BLOCK, SIGALL_SET, &args.oldmask);", "pthread_sigmask(SIG_BLOCK, 0, &args.oldmask);"]],
};

function log(line: string): void {
  process.stderr.write(`musl source: ${line}\n`);
}

/** The source package's version, as the lock pins the release's musl-dev (all architectures share one source). */
function sourceVersion(architecture: Architecture): string {
  const entry = lockedRelease(muslSourceRelease, architecture);
  if ("unavailable" in entry) throw new Error(`musl@${muslSourceRelease.version} for ${architecture.name}: ${entry.unavailable}`);
  return entry.packages[0]!.version;
}

/** The checked, unpacked source of the release's musl (test/helpers/debian-source.ts). */
function unpackedSource(version: string): Promise<{ directory: string; dscSha256: string }> {
  return unpackedDebianSource("musl-source", muslSourceRelease.suite, "musl", version, log);
}

/** musl's triple for clang and configure: the same CPU as the native build's target. */
function muslTarget(architecture: Architecture): string {
  return architecture.clangTarget.replace(/-linux-gnu\w*$/, "-linux-musl");
}

/** Builds (or finds cached) the installed tree for this architecture; resolves with its root (a --libc-root DIR). */
export async function muslSourceTree(architecture: Architecture, patch?: SourcePatch): Promise<string> {
  const version = sourceVersion(architecture);
  const source = await unpackedSource(version);
  const key = createHash("sha256")
    .update(JSON.stringify({ dsc: source.dscSha256, patch: patch ?? null, target: muslTarget(architecture), build: "make install" }))
    .update(await clangVersion())
    .digest("hex")
    .slice(0, 16);
  const directory = join(cacheDirectory(), "musl-source", `${architecture.name}-${patch?.name ?? "unpatched"}-${key}`);
  if (existsSync(directory)) return directory;
  await fetchOnce(directory, () => buildAtomically(directory, (scratch, output) => buildTree(source.directory, architecture, patch, scratch, output)));
  return directory;
}

async function buildTree(source: string, architecture: Architecture, patch: SourcePatch | undefined, scratch: string, output: string): Promise<void> {
  const work = join(scratch, "musl");
  await cp(source, work, { recursive: true });
  if (patch !== undefined) {
    const file = join(work, "src", "process", "posix_spawn.c");
    let text = readFileSync(file, "utf8");
    for (const [from, to] of patch.replacements) {
      if (text.split(from).length !== 2) throw new Error(`${patch.name}: musl's posix_spawn.c has ${text.split(from).length - 1} occurrences of ${JSON.stringify(from)}, not one`);
      text = text.replace(from, to);
    }
    writeFileSync(file, text);
  }
  const target = muslTarget(architecture);
  const started = Date.now();
  // binutils' ar (clang-19 depends on binutils) archives any object; lld reads an archive without a symbol index, so no ranlib that knows the target is needed.
  await run(["./configure", `--target=${target}`, "--prefix=/usr", "--disable-shared", `CC=${clangCommand} --target=${target}`, "AR=ar", "RANLIB=true"], work, `configuring musl for ${architecture.name}`);
  await run(["make", "-j2"], work, `building musl for ${architecture.name}`);
  await run(["make", "install", `DESTDIR=${output}`], work, `installing musl for ${architecture.name}`);
  log(`built and installed musl for ${architecture.name}${patch ? ` with ${patch.name}` : ""} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
