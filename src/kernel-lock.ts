/**
 * kernels.lock.json, the pure half: its shape, reading and writing it, and
 * deciding what set-up fetches from the lock and what the archive serves.
 * The lock pins, per architecture, the kernel package the system tier boots
 * and every QEMU build set-up downloads itself: loong64's qemu-system and,
 * for all nine, the user tier's qemu-user-static (`qemuUser`). The machine's
 * own qemu-system, which apt installs, is not pinned; the report names it by
 * its installed version.
 */

/** One .deb as the archive's signed index names it. */
export interface PinnedPackage {
  package: string;
  version: string;
  suite: string;
  /** Of the .deb, as the signed index states (set-up also measures it). */
  sha256: string;
}

export interface LockedKernel extends PinnedPackage {
  /** The metapackage that resolved to `package` when the lock was written (the architecture row's kernel.package). */
  metapackage: string;
}

export interface LockedArchitecture {
  kernel: LockedKernel;
  /** Only for a QEMU unpacked from another suite (loong64's from bookworm-backports). */
  qemu?: PinnedPackage;
}

export interface KernelLock {
  architectures: Record<string, LockedArchitecture>;
  /**
   * The user tier's emulators, one package for every architecture. Optional
   * here so that `kernels --update` can add it to an older lock; set-up
   * refuses a lock without it.
   */
  qemuUser?: PinnedPackage;
}

/** What set-up used instead of a locked package the archive no longer serves. */
export interface Substitution {
  locked: { package: string; version: string };
  used: { package: string; version: string };
}

/** The lock file is unreadable, malformed, or does not match the architecture table: bad input (exit 2). */
export class LockFileError extends Error {}

const about = "Pinned by `vforkcheck kernels --update`: the kernel and downloaded QEMU of every architecture, and the user tier's qemu-user (docs/tiers.md: Kernels and QEMU).";

/** A lock's JSON text: `about` first, then `fields` with every object's keys sorted (undefined ones left out), two-space indent, so rewrites diff cleanly. */
export function formatLockJson(about: string, fields: Record<string, unknown>): string {
  const sortKeys = (inner: unknown): unknown => {
    if (Array.isArray(inner)) return inner.map(sortKeys);
    if (inner === null || typeof inner !== "object") return inner;
    return Object.fromEntries(Object.keys(inner).sort().map((name) => [name, sortKeys((inner as Record<string, unknown>)[name])]));
  };
  return `${JSON.stringify({ about, ...(sortKeys(fields) as object) }, null, 2)}\n`;
}

/** A lock file's JSON value; a LockFileError naming the file when it is not JSON. */
export function parseLockJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new LockFileError(`${file}: not JSON: ${(error as Error).message}`);
  }
}

/** The lock's JSON text: architectures and fields in sorted order. */
export function formatLock(lock: KernelLock): string {
  return formatLockJson(about, { architectures: lock.architectures, qemuUser: lock.qemuUser });
}

/** Parses the lock's text; throws an Error naming the file and the field that is wrong. */
export function parseLock(text: string, file: string): KernelLock {
  const value = parseLockJson(text, file);
  const architectures = (value as { architectures?: unknown } | null)?.architectures;
  if (architectures === null || typeof architectures !== "object" || Array.isArray(architectures)) throw new LockFileError(`${file}: no "architectures" object`);
  const lock: KernelLock = { architectures: {} };
  for (const [name, entry] of Object.entries(architectures as Record<string, unknown>)) {
    const where = `${file}: architectures.${name}`;
    const kernel = pinned((entry as { kernel?: unknown } | null)?.kernel, `${where}.kernel`, ["metapackage"]) as LockedKernel;
    const qemuValue = (entry as { qemu?: unknown }).qemu;
    lock.architectures[name] = { kernel, ...(qemuValue === undefined ? {} : { qemu: pinned(qemuValue, `${where}.qemu`, []) }) };
  }
  const qemuUser = (value as { qemuUser?: unknown }).qemuUser;
  if (qemuUser !== undefined) lock.qemuUser = pinned(qemuUser, `${file}: qemuUser`, []);
  return lock;
}

function pinned(value: unknown, where: string, extra: readonly string[]): PinnedPackage {
  if (value === null || typeof value !== "object") throw new LockFileError(`${where}: missing`);
  for (const field of ["package", "version", "suite", "sha256", ...extra]) {
    const text = (value as Record<string, unknown>)[field];
    if (typeof text !== "string" || text === "") throw new LockFileError(`${where}.${field}: missing or not a string`);
  }
  if (!/^[0-9a-f]{64}$/.test((value as PinnedPackage).sha256)) throw new LockFileError(`${where}.sha256: not 64 hex digits`);
  return value as PinnedPackage;
}

/**
 * Which of the versions the archive serves under the locked package's name
 * is the locked one; undefined when it is no longer served. The same
 * version with another sha256 is not the locked package: an error.
 */
export function findLockedVersion<T extends { version: string; sha256: string }>(locked: PinnedPackage, served: readonly T[]): T | undefined {
  const match = served.find((candidate) => candidate.version === locked.version);
  if (match !== undefined && match.sha256 !== locked.sha256) {
    throw new Error(`${locked.package} ${locked.version}: the signed index of ${locked.suite} gives sha256 ${match.sha256}, the lock ${locked.sha256}`);
  }
  return match;
}

/** The record and the one line set-up prints when it uses `used` because `locked` is no longer served. */
export function substitution(architecture: string, locked: PinnedPackage, used: { package: string; version: string }): { substituted: Substitution; line: string } {
  const name = (p: { package: string; version: string }) => (p.package === locked.package ? p.version : `${p.package} ${p.version}`);
  return {
    substituted: { locked: { package: locked.package, version: locked.version }, used: { package: used.package, version: used.version } },
    line: `${architecture}: locked ${locked.package} ${locked.version} is no longer served; using ${name(used)}`,
  };
}

/** The lock entry must be for what the architecture row asks for; a row changed since the lock was written is refused. */
export function checkLockMatchesRow(architecture: string, locked: LockedKernel, row: { package: string; suite: string }): void {
  if (locked.metapackage !== row.package || locked.suite !== row.suite) {
    throw new LockFileError(`kernels.lock.json: ${architecture}: locked ${locked.metapackage} from ${locked.suite}, but src/architectures.ts asks for ${row.package} from ${row.suite}; run: npx vforkcheck kernels --update --arch ${architecture}`);
  }
}
