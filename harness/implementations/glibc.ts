/**
 * glibc's posix_spawn (impls/glibc/driver.c), linked statically against a
 * pinned glibc release: `--impl glibc@2.41`, the bare name is glibc 2.36
 * (bookworm); or against a glibc the maintainer installed (`--impl glibc
 * --libc-root DIR`, docs/libc-fork.md). Its child reports errors through
 * memory shared with the parent (the hello's errno_channel=shared_memory).
 */
import { libcReleaseImplementation } from "./libc-release.ts";

export const glibcImplementation = libcReleaseImplementation("glibc", { entryPoint: "posix_spawn" });
