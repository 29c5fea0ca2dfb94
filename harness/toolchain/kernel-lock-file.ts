/**
 * Where kernels.lock.json is, and the lock read from it once per process:
 * shared by the kernels and qemu-system (kernels.ts) and the user tier's
 * emulator (qemu-user.ts).
 */
import { join } from "node:path";
import { parseLock } from "../../src/kernel-lock.ts";
import { projectRoot } from "../process/project-root.ts";
import { lockFileReader } from "./debian-archive.ts";

/** $VFORKCHECK_KERNELS_LOCK, else kernels.lock.json at the project's root. */
export function kernelLockFile(): string {
  return process.env.VFORKCHECK_KERNELS_LOCK || join(projectRoot, "kernels.lock.json");
}

/** The lock, read once per process (per file); forget() after rewriting it. */
export const kernelLock = lockFileReader(kernelLockFile, parseLock, "npx vforkcheck kernels --update");
