/**
 * The user tier's emulator: Debian bookworm's qemu-user-static (QEMU 7.2),
 * pinned in kernels.lock.json (`qemuUser`) and unpacked into the cache, so a
 * verdict does not depend on which qemu-user the machine's Debian release
 * installs (bookworm 7.2, trixie 10): the tests and the docs state 7.2's
 * behaviour (clone3 ENOSYS, qemu-mips64el's SIGBUS for an unaligned access,
 * the -strace lines src/observer.ts reads). Statically linked, so the same
 * binaries run on any release. The machine's own qemu-user is never used.
 *
 * Cache layout (cacheDirectory()):
 *   qemu-user/<version>/qemu-<arch>-static   the nine emulators the rows name
 *   qemu-user/<version>/qemu-user.json       what they were unpacked from
 * <version> is the locked one, with its epoch's colon spelled %3a as in a
 * .deb's file name. The entry is checked against its manifest.json on use
 * (cache-entry.ts). An entry of the locked version (or of what replaced it
 * when the archive stopped serving it) is used without running apt.
 */
import { existsSync, readFileSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { architectures, type Architecture } from "../../src/architectures.ts";
import { LockFileError, type PinnedPackage } from "../../src/kernel-lock.ts";
import { buildAtomically, cacheDirectory, extractFromDeb, fetchOnce, hostDebianArchitecture, isLockedEntry, lockedOrServed, messageOf, openPrivateApt, type Log, type PrivateApt, type UnpackedPackage } from "./debian-archive.ts";
import { hashEveryFile, usableEntry } from "./cache-entry.ts";
import { kernelLock, kernelLockFile } from "./kernel-lock-file.ts";

/** The package `kernels --update` pins: bookworm's, the QEMU 7.2 this suite's measurements were made with. */
export const qemuUserSource = { package: "qemu-user-static", suite: "bookworm" } as const;

/** qemu-user.json: the package the emulators were unpacked from. */
export type QemuUserRecord = UnpackedPackage;

const defaultLog: Log = (line) => process.stderr.write(`vforkcheck qemu-user: ${line}\n`);

/** The file name of an architecture's emulator in qemu-user-static: QEMU's name with "-static". */
function emulatorFile(architecture: Architecture): string {
  return `${architecture.qemuUser}-static`;
}

/** The lock's qemuUser entry; a LockFileError when it is missing or pins another package or suite. */
export function lockedQemuUser(): PinnedPackage {
  const locked = kernelLock.read().qemuUser;
  if (locked === undefined || locked.package !== qemuUserSource.package || locked.suite !== qemuUserSource.suite) {
    const found = locked === undefined ? "no qemuUser entry" : `qemuUser pins ${locked.package} from ${locked.suite}`;
    throw new LockFileError(`${kernelLockFile()}: ${found}, the user tier takes ${qemuUserSource.package} from ${qemuUserSource.suite}; run: npx vforkcheck kernels --update`);
  }
  return locked;
}

function directoryOf(locked: PinnedPackage): string {
  return join(cacheDirectory(), "qemu-user", locked.version.replaceAll(":", "%3a"));
}

/** The cache entry's record when it is the locked package with every emulator in place. */
function cachedRecord(directory: string, locked: PinnedPackage): QemuUserRecord | undefined {
  let record: QemuUserRecord;
  try {
    record = JSON.parse(readFileSync(join(directory, "qemu-user.json"), "utf8")) as QemuUserRecord;
  } catch {
    return undefined;
  }
  if (!isLockedEntry(record, locked)) return undefined;
  return architectures.every((architecture) => existsSync(join(directory, emulatorFile(architecture)))) ? record : undefined;
}

/** The locked emulators in the cache: there already, else downloaded and unpacked (one line per step). */
export async function ensureQemuUser(log: Log = defaultLog): Promise<QemuUserRecord> {
  const locked = lockedQemuUser();
  const directory = directoryOf(locked);
  const cached = (await usableEntry(directory, "qemu-user", hashEveryFile, log)) ? cachedRecord(directory, locked) : undefined;
  if (cached !== undefined) return cached;
  try {
    return await fetchOnce(directory, () => fetchQemuUser(locked, directory, log));
  } catch (error) {
    throw new Error(`qemu-user (${locked.package} ${locked.version}, ${locked.suite}/${hostDebianArchitecture}): ${messageOf(error)}`, { cause: error });
  }
}

async function fetchQemuUser(locked: PinnedPackage, directory: string, log: Log): Promise<QemuUserRecord> {
  const apt: PrivateApt = await openPrivateApt(locked.suite, hostDebianArchitecture, log);
  // The .deb is checked against the signed index's sha256 (apt.download), which is the lock's (lockedOrServed).
  const { stanza, substituted } = await lockedOrServed(apt, "qemu-user", locked, () => apt.show(locked.package), log);
  const record = await buildAtomically(directory, async (scratch, output) => {
    const deb = await apt.download(stanza, scratch);
    // Only the nine the rows name, of the package's 35 emulators (about 100 of its 380 MB).
    await extractFromDeb(deb, scratch, architectures.map((architecture) => `./usr/bin/${emulatorFile(architecture)}`), stanza.Package!);
    for (const architecture of architectures) await rename(join(scratch, "usr", "bin", emulatorFile(architecture)), join(output, emulatorFile(architecture)));
    const unpacked: QemuUserRecord = { packageName: stanza.Package!, version: stanza.Version!, sha256: stanza.SHA256!, suite: locked.suite, ...(substituted ? { substituted } : {}) };
    await writeFile(join(output, "qemu-user.json"), `${JSON.stringify(unpacked, null, 2)}\n`);
    return unpacked;
  });
  log(`cached the ${architectures.length} emulators of ${record.packageName} ${record.version} in ${directory}`);
  return record;
}

/**
 * The emulator a user-tier target runs under (and the startup check, on
 * every tier): the pinned binary in the cache. Synchronous, for the code
 * that builds a command line; every run fetches it first (coreTools, set-up),
 * so a missing one is a one-line error that says how to fetch it.
 */
const verifiedDirectories = new Set<string>();

export function qemuUserBinary(architecture: Architecture): string {
  const locked = lockedQemuUser();
  const directory = directoryOf(locked);
  // Checked once per process and directory: every driver start and restart asks for its emulator.
  if (!verifiedDirectories.has(directory)) {
    if (cachedRecord(directory, locked) === undefined) {
      throw new Error(`${architecture.qemuUser}: the pinned ${locked.package} ${locked.version} is not in ${directory}; run: npx vforkcheck setup`);
    }
    verifiedDirectories.add(directory);
  }
  return join(directory, emulatorFile(architecture));
}

/** `kernels --update`: what the archive serves now under qemuUserSource, from its signed index (no .deb is downloaded). */
export async function currentQemuUser(log: Log = defaultLog): Promise<PinnedPackage> {
  const stanza = await (await openPrivateApt(qemuUserSource.suite, hostDebianArchitecture, log)).show(qemuUserSource.package);
  return { package: stanza.Package!, version: stanza.Version!, suite: qemuUserSource.suite, sha256: stanza.SHA256! };
}
