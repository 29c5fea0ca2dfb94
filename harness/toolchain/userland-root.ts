/**
 * A runtime's userland unpacked from its packages (runtime-releases.ts) is
 * made a root that stands on its own, as an installed Debian system does:
 *   - the merged-/usr links base-files makes (lib -> usr/lib, bin -> usr/bin,
 *     ...), where packages of trixie and later ship only /usr/lib/... while
 *     programs still name /lib64/ld-linux-x86-64.so.2 as their loader;
 *   - every absolute symlink made relative (bookworm's
 *     /lib64/ld-linux-x86-64.so.2 -> /lib/x86_64-linux-gnu/...), so that
 *     following it stays in the root: qemu-user's -L, the host tier's
 *     loader and a VM's disk all see the root's file, never this machine's.
 */
import { readdir, readlink, rm, stat, symlink } from "node:fs/promises";
import { dirname, join, relative } from "node:path";

/** The top-level directories base-files links into /usr on a merged-/usr system. */
const mergedUsrDirectories = ["bin", "sbin", "lib", "lib32", "lib64", "libx32"] as const;

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

export async function completeUserlandRoot(root: string): Promise<void> {
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isSymbolicLink()) continue;
    const link = join(entry.parentPath, entry.name);
    const target = await readlink(link);
    if (!target.startsWith("/")) continue;
    await rm(link);
    await symlink(relative(dirname(link), join(root, target)) || ".", link);
  }
  for (const name of mergedUsrDirectories) {
    if ((await exists(join(root, "usr", name))) && !(await exists(join(root, name)))) await symlink(join("usr", name), join(root, name));
  }
}
