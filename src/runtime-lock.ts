/**
 * runtimes.lock.json, the pure half: what `vforkcheck runtimes --update`
 * pinned for every runtime release (src/runtime-releases.ts) and target:
 * the exact .debs (package, version, suite, sha256, index architecture),
 * or, where the registry does not carry the release for that target, why.
 * Set-up fetches exactly what is pinned, as for the kernels
 * (src/kernel-lock.ts). A dynamic runtime's entry is its package followed
 * by its dependency closure (src/apt-simulation.ts).
 */
import { formatLockJson, LockFileError, parseLockJson, type PinnedPackage } from "./kernel-lock.ts";

export interface PinnedRuntimePackage extends PinnedPackage {
  /** The index it was listed in (apt's :arch): "amd64" for cross and arch-all packages. */
  debianArchitecture: string;
}

/** One release for one target: its packages, or the reason the registry has none. */
export type LockedRuntimeTarget = { packages: PinnedRuntimePackage[] } | { unavailable: string };

export interface RuntimeLock {
  /** "go@1.24" -> target key ("toolchain" or an architecture name) -> entry. */
  releases: Record<string, Record<string, LockedRuntimeTarget>>;
}

const about = "Pinned by `vforkcheck runtimes --update`: the Debian packages of every runtime release the gate builds against (docs/gating.md: Releases from the registry).";

/** The lock's JSON text, keys sorted, two-space indent, so rewrites diff cleanly. */
export function formatRuntimeLock(lock: RuntimeLock): string {
  return formatLockJson(about, { releases: lock.releases });
}

/** Parses the lock's text; throws a LockFileError naming the file and the field that is wrong. */
export function parseRuntimeLock(text: string, file: string): RuntimeLock {
  const value = parseLockJson(text, file);
  const releases = (value as { releases?: unknown } | null)?.releases;
  if (!isObject(releases)) throw new LockFileError(`${file}: no "releases" object`);
  const lock: RuntimeLock = { releases: {} };
  for (const [release, targets] of Object.entries(releases)) {
    if (!/^[a-z]+@[0-9][0-9.]*$/.test(release)) throw new LockFileError(`${file}: releases.${release}: not NAME@VERSION`);
    if (!isObject(targets)) throw new LockFileError(`${file}: releases.${release}: not an object`);
    lock.releases[release] = {};
    for (const [key, entry] of Object.entries(targets)) {
      lock.releases[release]![key] = lockedTarget(entry, `${file}: releases.${release}.${key}`);
    }
  }
  return lock;
}

function lockedTarget(entry: unknown, where: string): LockedRuntimeTarget {
  if (!isObject(entry)) throw new LockFileError(`${where}: not an object`);
  if (typeof entry.unavailable === "string" && entry.unavailable !== "") return { unavailable: entry.unavailable };
  if (!Array.isArray(entry.packages) || entry.packages.length === 0) throw new LockFileError(`${where}: neither "packages" nor "unavailable"`);
  return { packages: entry.packages.map((pinned, index) => pinnedRuntimePackage(pinned, `${where}.packages[${index}]`)) };
}

function pinnedRuntimePackage(value: unknown, where: string): PinnedRuntimePackage {
  if (!isObject(value)) throw new LockFileError(`${where}: not an object`);
  for (const field of ["package", "version", "suite", "sha256", "debianArchitecture"]) {
    if (typeof value[field] !== "string" || value[field] === "") throw new LockFileError(`${where}.${field}: missing or not a string`);
  }
  if (!/^[0-9a-f]{64}$/.test(value.sha256 as string)) throw new LockFileError(`${where}.sha256: not 64 hex digits`);
  return value as unknown as PinnedRuntimePackage;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
