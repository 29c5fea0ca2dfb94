/**
 * The runtime releases the suite gates, as Debian's package registry carries
 * them: which suite has which release, and which packages make it up for a
 * target architecture. Pure data and the rules that read it; fetching is
 * harness/toolchain/runtime-releases.ts, pinning is runtimes.lock.json
 * (src/runtime-lock.ts).
 *
 * `--impl NAME@VERSION` names one row; the bare NAME is the runtime's first
 * row (its default); `NAME@all` is every row of that runtime.
 */
import type { Architecture } from "./architectures.ts";

export type RuntimeName = "go" | "glibc" | "musl" | "python" | "node";

export interface RuntimeRelease {
  runtime: RuntimeName;
  /** As --impl spells it: "1.24", "2.41", "1.2.5". */
  version: string;
  /** The Debian suite whose index carries it. */
  suite: string;
}

/** One row per release; the first row of a runtime is its default (the bare name). */
export const runtimeReleases: readonly RuntimeRelease[] = [
  { runtime: "go", version: "1.19", suite: "bookworm" },
  { runtime: "go", version: "1.22", suite: "bookworm-backports" },
  { runtime: "go", version: "1.23", suite: "bookworm-backports" },
  { runtime: "go", version: "1.24", suite: "trixie" },
  { runtime: "go", version: "1.26", suite: "forky" },
  { runtime: "glibc", version: "2.36", suite: "bookworm" },
  { runtime: "glibc", version: "2.41", suite: "trixie" },
  { runtime: "glibc", version: "2.43", suite: "forky" },
  { runtime: "musl", version: "1.2.3", suite: "bookworm" },
  { runtime: "musl", version: "1.2.5", suite: "trixie" },
  { runtime: "musl", version: "1.2.6", suite: "forky" },
  { runtime: "python", version: "3.11", suite: "bookworm" },
  { runtime: "python", version: "3.13", suite: "trixie" },
  { runtime: "python", version: "3.14", suite: "forky" },
  { runtime: "node", version: "18", suite: "bookworm" },
  { runtime: "node", version: "20", suite: "trixie" },
  { runtime: "node", version: "24", suite: "forky" },
];

export const runtimeNames: readonly RuntimeName[] = [...new Set(runtimeReleases.map((release) => release.runtime))];

export function isRuntimeName(name: string): name is RuntimeName {
  return (runtimeNames as readonly string[]).includes(name);
}

export function releasesOf(runtime: RuntimeName): RuntimeRelease[] {
  return runtimeReleases.filter((release) => release.runtime === runtime);
}

/** The release a bare name means. */
export function defaultRelease(runtime: RuntimeName): RuntimeRelease {
  return releasesOf(runtime)[0]!;
}

/** The release of this version, the default one when version is undefined; undefined when the table has no such row. */
export function findRelease(runtime: RuntimeName, version?: string): RuntimeRelease | undefined {
  return version === undefined ? defaultRelease(runtime) : releasesOf(runtime).find((release) => release.version === version);
}

/** A runtime whose release is a userland to run (python3.X-minimal or nodejs, and its closure), not a toolchain or a libc to build with. */
export function isUserlandRelease(release: RuntimeRelease): boolean {
  return release.runtime === "python" || release.runtime === "node";
}

/** "go@1.24": how --impl, the lock and the reports name a release. */
export function releaseName(release: RuntimeRelease): string {
  return `${release.runtime}@${release.version}`;
}

/**
 * A package a release needs, and which index serves it: `debianArchitecture`
 * is the index (apt's :arch). A name with `*` stands for the highest-numbered
 * package of that shape (the cross libgcc's gcc version differs per suite);
 * `vforkcheck runtimes --update` resolves it and the lock pins the result.
 */
export interface PackageRequest {
  name: string;
  debianArchitecture: string;
  /**
   * Its run-time dependencies too (Depends and Pre-Depends, as apt resolves
   * them against an empty system): a dynamic runtime's userland. The lock
   * pins every package of that closure after this one.
   */
  withDependencies?: boolean;
}

/**
 * Where a release's packages are cached and pinned: one key for a toolchain
 * that serves every architecture (Go cross-compiles), else the architecture.
 */
export function releaseTargetKey(release: RuntimeRelease, architecture: Architecture): string {
  return release.runtime === "go" ? "toolchain" : architecture.name;
}

/** The machine's architecture in Debian's words: the Go toolchain runs here, cross packages are listed under it. */
const hostIndex = "amd64";

/**
 * What makes up a release for one target:
 *   go     the toolchain and its standard library (golang-V-go, golang-V-src);
 *   glibc  the suite's cross glibc for the target (headers, crt files,
 *          libc.a), its kernel headers and its cross libgcc (and
 *          linux-libc-dev, where the cross headers point into it);
 *   musl   the target's own musl-dev (headers, crt files, libc.a), with the
 *          kernel headers and the cross libgcc of the same suite;
 *   python the target's own python3.X-minimal and what it runs on (libc6,
 *          libpython3.X-minimal, libssl, zlib, ...): a userland that runs
 *          the interpreter under qemu-user, in a VM or here;
 *   node   the target's own nodejs and its closure (libnode, the system
 *          libuv, ICU, ...), the same kind of userland.
 */
/**
 * From forky on, a cross kernel-headers package is symlinks
 * (usr/<triple>/include/linux/limits.h -> ../../../include/linux/limits.h)
 * into linux-libc-dev (Architecture: all), which it depends on; earlier
 * suites' linux-libc-dev is the host's own headers, unpacked but not on
 * any include path.
 */
const kernelHeaders: PackageRequest = { name: "linux-libc-dev", debianArchitecture: hostIndex };

export function releasePackages(release: RuntimeRelease, architecture: Architecture): PackageRequest[] {
  const debianArchitecture = architecture.system.kernel.debianArchitecture;
  const cross = (name: string): PackageRequest => ({ name: `${name}-${debianArchitecture}-cross`, debianArchitecture: hostIndex });
  switch (release.runtime) {
    case "go":
      return [
        { name: `golang-${release.version}-go`, debianArchitecture: hostIndex },
        { name: `golang-${release.version}-src`, debianArchitecture: hostIndex },
      ];
    case "glibc":
      return [cross("libc6-dev"), cross("libc6"), cross("linux-libc-dev"), cross("libgcc-*-dev"), kernelHeaders];
    case "musl":
      return [{ name: "musl-dev", debianArchitecture }, cross("linux-libc-dev"), cross("libgcc-*-dev"), kernelHeaders];
    case "python":
      return [{ name: `python${release.version}-minimal`, debianArchitecture, withDependencies: true }];
    case "node":
      return [{ name: "nodejs", debianArchitecture, withDependencies: true }];
  }
}

/** The highest-numbered name of the pattern's shape among `names` ("libgcc-*-dev-arm64-cross" -> "libgcc-14-dev-arm64-cross"). */
export function resolvePackagePattern(pattern: string, names: readonly string[]): string | undefined {
  if (!pattern.includes("*")) return names.includes(pattern) ? pattern : undefined;
  const [before, after] = pattern.split("*") as [string, string];
  const numbered = names
    .filter((name) => name.startsWith(before) && name.endsWith(after))
    .map((name) => ({ name, number: name.slice(before.length, name.length - after.length) }))
    .filter((candidate) => /^[0-9]+$/.test(candidate.number))
    .sort((a, b) => Number(b.number) - Number(a.number));
  return numbered[0]?.name;
}

/**
 * Whether a Debian package version is of this release: "2.41-11cross1" is
 * glibc 2.41, "1.24.4-1" is Go 1.24, "2.40-5cross1" is not glibc 2.41 (a
 * suite's cross package can lag its own glibc). The epoch is ignored.
 */
export function isReleaseVersion(release: RuntimeRelease, debianVersion: string): boolean {
  const upstream = debianVersion.replace(/^[0-9]+:/, "");
  return upstream.startsWith(release.version) && !/^[0-9]/.test(upstream.slice(release.version.length));
}

/** A Debian version's upstream part: "1:2.36-9+deb12u4" is "2.36", "18.20.4+dfsg-1~deb12u2" is "18.20.4". */
export function upstreamVersion(debianVersion: string): string {
  return debianVersion.replace(/^[0-9]+:/, "").split(/[-+~]/)[0]!;
}
