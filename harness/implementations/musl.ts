/**
 * musl's posix_spawn: the same driver source as glibc's (impls/glibc/driver.c,
 * its differences behind #ifdef __GLIBC__), linked statically against a
 * pinned musl release: `--impl musl@1.2.5`, the bare name is musl 1.2.3
 * (bookworm); or against a musl the maintainer installed (`--impl musl
 * --libc-root DIR`, docs/libc-fork.md). Its child runs CLONE_VM|CLONE_VFORK
 * on a stack in the parent's frame and reports errors through a
 * close-on-exec pipe (errno_channel=pipe). What is musl's own lives in
 * impls/musl/.
 */
import { libcReleaseImplementation } from "./libc-release.ts";

export const muslImplementation = libcReleaseImplementation("musl", { entryPoint: "posix_spawn" });
