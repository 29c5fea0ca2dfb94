/**
 * A runtime's userland unpacked from its packages (runtime-releases.ts) is
 * made a root that stands on its own, as an installed Debian system does:
 *   - merged /usr, as usrmerge leaves it (lib -> usr/lib, bin -> usr/bin,
 *     ...): packages of trixie and later ship only /usr/lib/... while
 *     programs still name /lib64/ld-linux-x86-64.so.2 as their loader, and
 *     bookworm's libc6 still ships /lib/<triple>/libc.so.6, which a loader
 *     that searches /usr/lib/<triple> must find there too (bookworm's armhf
 *     and mips64el loaders under qemu-user look for libc.so.6 only under
 *     /usr/lib/<triple>, measured with node@18);
 *   - every absolute symlink made relative (bookworm's
 *     /lib64/ld-linux-x86-64.so.2 -> /lib/x86_64-linux-gnu/...), so that
 *     following it stays in the root: qemu-user's -L, the host tier's
 *     loader and a VM's disk all see the root's file, never this machine's.
 */
import { lstat, mkdir, readdir, readlink, rename, rm, rmdir, stat, symlink } from "node:fs/promises";
import { lstatSync } from "node:fs";
import { dirname, join, relative } from "node:path";

/** The top-level directories base-files links into /usr on a merged-/usr system. */
const mergedUsrDirectories = ["bin", "sbin", "lib", "lib32", "lib64", "libx32"] as const;

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** Moves everything under `from` into `into` (directories merged), then removes `from`; the same file in both is an error. */
async function moveInto(from: string, into: string): Promise<void> {
  await mkdir(into, { recursive: true });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(into, entry.name);
    const existing = await lstat(target).catch(() => undefined);
    if (existing === undefined) await rename(source, target);
    else if (existing.isDirectory() && entry.isDirectory()) await moveInto(source, target);
    else throw new Error(`merging /usr: ${relative(dirname(into), target)} is shipped both in /${relative(dirname(dirname(into)), source)} and in /usr`);
  }
  await rmdir(from);
}

/** Whether /lib, /bin, ... of the root are all links into /usr (or absent): a root cached before the merge was made is made again. */
export function isMergedRoot(root: string): boolean {
  return mergedUsrDirectories.every((name) => !lstatSync(join(root, name), { throwIfNoEntry: false })?.isDirectory());
}

export async function completeUserlandRoot(root: string): Promise<void> {
  for (const name of mergedUsrDirectories) {
    const top = await lstat(join(root, name)).catch(() => undefined);
    if (top?.isDirectory()) await moveInto(join(root, name), join(root, "usr", name));
    if ((await exists(join(root, "usr", name))) && !(await lstat(join(root, name)).catch(() => undefined))) await symlink(join("usr", name), join(root, name));
  }
  // After the merge: a link then names the file where it is.
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isSymbolicLink()) continue;
    const link = join(entry.parentPath, entry.name);
    const target = await readlink(link);
    if (!target.startsWith("/")) continue;
    await rm(link);
    await symlink(relative(dirname(link), join(root, target)) || ".", link);
  }
}
