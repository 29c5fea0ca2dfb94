/**
 * The runtime releases (src/runtime-releases.ts) as files on this machine:
 * each release's pinned packages (runtimes.lock.json) downloaded from the
 * registry through the private apt (debian-archive.ts), checked against the
 * signed index and the lock's sha256, and unpacked together into one root:
 *
 *   runtimes/<runtime>@<version>/<target key>/root/      the packages' files
 *   runtimes/<runtime>@<version>/<target key>/release.json  what they came from
 *
 * A cached entry of the locked packages is returned without running apt,
 * once checked against its manifest.json (cache-entry.ts).
 * `vforkcheck runtimes --update` rewrites the lock from the registry's
 * current index.
 */
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { findArchitecture, type Architecture } from "../../src/architectures.ts";
import { LockFileError } from "../../src/kernel-lock.ts";
import { formatRuntimeLock, parseRuntimeLock, type LockedRuntimeTarget, type PinnedRuntimePackage, type RuntimeLock } from "../../src/runtime-lock.ts";
import { isReleaseVersion, isUserlandRelease, releaseName, releasePackages, releaseTargetKey, resolvePackagePattern, type RuntimeRelease } from "../../src/runtime-releases.ts";
import { projectRoot } from "../process/project-root.ts";
import { buildAtomically, cacheDirectory, extractFromDeb, fetchOnce, isLockedEntry, lockedOrServed, messageOf, openPrivateApt, readJson, lockFileReader, type Log, type PrivateApt, type UnpackedPackage } from "./debian-archive.ts";
import { usableEntry, type HashedFiles } from "./cache-entry.ts";
import { refuseUndeclaredRelease } from "./test-requirements.ts";
import { completeUserlandRoot, isMergedRoot } from "./userland-root.ts";

/** The registry does not carry this release for this target: the cell is a skip with `reason`. */
export class ReleaseUnavailableError extends Error {}

export interface ReleaseRoot {
  release: RuntimeRelease;
  /** Where every package of the release is unpacked (usr/...). */
  root: string;
  packages: ReleaseRecord[];
}

/** release.json: one entry per unpacked package. */
type ReleaseRecord = UnpackedPackage;

const defaultLog: Log = (line) => process.stderr.write(`vforkcheck runtimes: ${line}\n`);

/**
 * The files of a release hashed in full when its entry is used: the Go
 * command and the compiler and linker it runs; the C runtime
 * objects and archives a libc driver links. The rest (a Go tree's 15,000
 * sources and headers) is checked by size and modification time.
 */
const filesBuildsRead: HashedFiles = (path) => /(^|\/)(bin\/go|pkg\/tool\/[^/]+\/(compile|link)|libc\.a|libgcc(_eh)?\.a|crt1\.o|crti\.o|crtn\.o|crtbeginT\.o|crtend\.o)$/.test(path) || path === "release.json";

/** $VFORKCHECK_RUNTIMES_LOCK, else runtimes.lock.json at the project's root. */
export function runtimeLockFile(): string {
  return process.env.VFORKCHECK_RUNTIMES_LOCK || join(projectRoot, "runtimes.lock.json");
}

/** The lock, read once per process (per file). */
const runtimeLock = lockFileReader(runtimeLockFile, parseRuntimeLock, "npx vforkcheck runtimes --update");

/** The lock's entry for this release and target; a LockFileError when there is none. */
export function lockedRelease(release: RuntimeRelease, architecture: Architecture): LockedRuntimeTarget {
  const key = releaseTargetKey(release, architecture);
  const entry = runtimeLock.read().releases[releaseName(release)]?.[key];
  if (entry === undefined) throw new LockFileError(`${runtimeLockFile()}: no entry for ${releaseName(release)} ${key}; run: npx vforkcheck runtimes --update --impl ${releaseName(release)}`);
  return entry;
}

/**
 * A package of the release as the lock pins it for amd64 (every release
 * the suite has exists there): by name, else the release's own (the first).
 * What the report's toolchain and a known finding's version name.
 */
export function pinnedPackage(release: RuntimeRelease, name?: string): PinnedRuntimePackage | undefined {
  const entry = lockedRelease(release, findArchitecture("amd64")!);
  if (!("packages" in entry)) return undefined;
  return name === undefined ? entry.packages[0] : entry.packages.find((pinned) => pinned.package === name || pinned.package.startsWith(`${name}t64`));
}

/** Why the registry has no such release for this target, from the lock; undefined when it has. */
export function releaseUnavailable(release: RuntimeRelease, architecture: Architecture): string | undefined {
  const entry = lockedRelease(release, architecture);
  return "unavailable" in entry ? entry.unavailable : undefined;
}

/**
 * The release's packages for this target, unpacked: from the cache, else
 * fetched. Throws ReleaseUnavailableError, with the lock's reason, when the
 * registry does not carry the release for this target.
 */
export async function ensureRelease(release: RuntimeRelease, architecture: Architecture, log: Log = defaultLog): Promise<ReleaseRoot> {
  const entry = lockedRelease(release, architecture);
  if ("unavailable" in entry) throw new ReleaseUnavailableError(`${releaseName(release)} for ${architecture.name}: ${entry.unavailable}`);
  // Under ava: a release npm test's set-up did not fetch fails here, cached or not (test/requirements.json).
  refuseUndeclaredRelease(release, architecture);
  const directory = join(cacheDirectory(), "runtimes", releaseName(release), releaseTargetKey(release, architecture));
  const root = join(directory, "root");
  const usable = await usableEntry(directory, `${releaseName(release)} for ${architecture.name}`, filesBuildsRead, log);
  const cached = usable ? await readJson<ReleaseRecord[]>(join(directory, "release.json")) : undefined;
  // A userland cached before /usr was merged is made again.
  const layoutCurrent = !isUserlandRelease(release) || isMergedRoot(root);
  if (cached !== undefined && existsSync(root) && layoutCurrent && entry.packages.every((pinned) => cached.some((record) => isLockedEntry(record, pinned)))) {
    return { release, root, packages: cached };
  }
  try {
    const packages = await fetchOnce(directory, () => fetchRelease(release, entry.packages, directory, log));
    return { release, root, packages };
  } catch (error) {
    throw new Error(`${releaseName(release)} for ${architecture.name} (${release.suite}): ${messageOf(error)}`, { cause: error });
  }
}

async function fetchRelease(release: RuntimeRelease, pinned: readonly PinnedRuntimePackage[], directory: string, log: Log): Promise<ReleaseRecord[]> {
  const records = await buildAtomically(directory, async (scratch, output) => {
    const root = join(output, "root");
    const fetched: ReleaseRecord[] = [];
    for (const locked of pinned) {
      const apt = await openPrivateApt(locked.suite, locked.debianArchitecture, log);
      const { stanza, substituted } = await lockedOrServed(apt, releaseName(release), locked, () => apt.show(locked.package), log);
      const deb = await apt.download(stanza, scratch);
      await mkdir(root, { recursive: true });
      await extractFromDeb(deb, root, [], stanza.Package!);
      fetched.push({ packageName: stanza.Package!, version: stanza.Version!, sha256: stanza.SHA256!, suite: locked.suite, ...(substituted ? { substituted } : {}) });
    }
    if (isUserlandRelease(release)) await completeUserlandRoot(root);
    await writeFile(join(output, "release.json"), `${JSON.stringify(fetched, null, 2)}\n`);
    return fetched;
  });
  log(`cached ${releaseName(release)} (${records.map((record) => `${record.packageName} ${record.version}`).join(", ")}) in ${directory}`);
  return records;
}

/**
 * `vforkcheck runtimes --update`: for each release and target, the packages
 * the registry's signed index serves now, written into the lock (other
 * entries stay). A package the index does not list makes the entry
 * "unavailable" with that fact as its reason. Downloads no .deb.
 */
export async function updateRuntimeLock(releases: readonly RuntimeRelease[], targets: readonly Architecture[], log: Log = defaultLog): Promise<void> {
  const file = runtimeLockFile();
  const lock: RuntimeLock = existsSync(file) ? runtimeLock.read() : { releases: {} };
  const opened = new Map<string, Promise<PrivateApt>>();
  const aptFor = (suite: string, debianArchitecture: string) => {
    const key = `${suite}-${debianArchitecture}`;
    if (!opened.has(key)) opened.set(key, openPrivateApt(suite, debianArchitecture, log));
    return opened.get(key)!;
  };
  for (const release of releases) {
    const entries = (lock.releases[releaseName(release)] ??= {});
    const keys = new Map(targets.map((architecture) => [releaseTargetKey(release, architecture), architecture]));
    for (const [key, architecture] of keys) {
      const packages: PinnedRuntimePackage[] = [];
      let unavailable: string | undefined;
      for (const request of releasePackages(release, architecture)) {
        const apt = await aptFor(release.suite, request.debianArchitecture);
        const prefix = request.name.split("*")[0]!;
        // A plain name is asked for itself: apt-cache pkgnames leaves out a foreign architecture's Multi-Arch: none package (nodejs:arm64).
        const name = request.name.includes("*") ? resolvePackagePattern(request.name, await apt.names(prefix)) : request.name;
        const served = name === undefined ? [] : await apt.served(name);
        if (name === undefined || served.length === 0) {
          unavailable = `${release.suite} has no ${request.name.replace("*", "N")} (${request.debianArchitecture} index)`;
          break;
        }
        const stanza = await apt.show(name);
        // The release's own package (the first) must be of that release.
        if (packages.length === 0 && !isReleaseVersion(release, stanza.Version!)) {
          unavailable = `${release.suite}'s ${name} is ${stanza.Version}, not ${release.runtime} ${release.version}`;
          break;
        }
        packages.push({ package: stanza.Package!, version: stanza.Version!, suite: release.suite, sha256: stanza.SHA256!, debianArchitecture: request.debianArchitecture });
        if (!request.withDependencies) continue;
        for (const needed of await apt.closure(name)) {
          if (needed.package === name || packages.some((pinned) => pinned.package === needed.package)) continue;
          const record = await apt.show(needed.package);
          if (record.Version !== needed.version) throw new Error(`${needed.package}: apt-get -s install takes ${needed.version}, apt-cache show ${record.Version}`);
          packages.push({ package: record.Package!, version: record.Version!, suite: release.suite, sha256: record.SHA256!, debianArchitecture: request.debianArchitecture });
        }
      }
      entries[key] = unavailable === undefined ? { packages } : { unavailable };
      log(`${releaseName(release)} ${key}: ${unavailable ?? packages.map((pinned) => `${pinned.package} ${pinned.version}`).join(", ")}`);
    }
  }
  await writeFile(file, formatRuntimeLock(lock));
  runtimeLock.forget();
  log(`wrote ${file}`);
}
