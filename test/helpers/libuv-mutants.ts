/**
 * Bugs put in libuv's uv_spawn (libuv-source.ts builds them), one per Node
 * release because each release's libuv spells the code differently. Each
 * `from` must occur exactly once in that version's src/unix/process.c.
 */
import type { LibuvNodeVersion, LibuvPatch } from "./libuv-source.ts";

/** libuv 1.44 and 1.50 spawn on Linux only by fork and exec: the child makes itself a session leader in uv__process_child_init. */
const forkPathSetsid = ["  if (options->flags & UV_PROCESS_DETACHED)\n    setsid();\n", "  /* mutant: a detached child stays in its parent's session */\n"] as const;

/**
 * A spawn with `detached: true` does not put the child in a new session
 * (no setsid): the child keeps the parent's session and controlling
 * terminal, and a hangup of that terminal reaches a process that asked to
 * be detached from it.
 */
export const detachedKeepsSession: { readonly [version in LibuvNodeVersion]: LibuvPatch } = {
  "18": { name: "detached-keeps-session", file: "src/unix/process.c", replacements: [forkPathSetsid] },
  "20": { name: "detached-keeps-session", file: "src/unix/process.c", replacements: [forkPathSetsid] },
  // 1.53 spawns by posix_spawn where it can (POSIX_SPAWN_SETSID asks glibc for the setsid) and falls back to fork
  // (a vfork that does not share memory, as under some emulators; setuid/setgid): both lose it, so the bug shows
  // whichever path libuv takes.
  "24": {
    name: "detached-keeps-session",
    file: "src/unix/process.c",
    replacements: [forkPathSetsid, ["    flags |= POSIX_SPAWN_SETSID;\n", "    /* mutant: no POSIX_SPAWN_SETSID */\n"]],
  },
};
