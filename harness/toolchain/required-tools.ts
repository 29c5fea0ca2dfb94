import { findOnPath } from "../process/find-on-path.ts";
import { architectures, type Architecture } from "../../src/architectures.ts";
import { ensureQemuUser } from "./qemu-user.ts";

/** A command the suite runs, and the Debian package that provides it. */
export interface RequiredTool {
  /** Looked up on PATH. */
  command: string;
  debianPackage: string;
}

/** Something pinned and fetched into the cache, not installed on the machine. */
export interface FetchedTool {
  /** What it is, for messages. */
  name: string;
  /** Fetches it unless the cache has it; silent then. */
  fetch: () => Promise<unknown>;
}

/** What a run needs: commands the machine's apt installs, and pinned things fetched into the cache. */
export type RunTool = RequiredTool | FetchedTool;

const pinnedQemuUser: FetchedTool = { name: "qemu-user (kernels.lock.json)", fetch: () => ensureQemuUser() };

/** What `npm test` and `npm run gate` need on the host and user tiers. */
export function coreTools(): RunTool[] {
  return [
    // clang/lld 14 have no LoongArch; 19 builds all nine architectures.
    { command: "clang-19", debianPackage: "clang-19" },
    { command: "ld.lld-19", debianPackage: "lld-19" },
    // The observer of which clone really happened on the host tier.
    { command: "strace", debianPackage: "strace" },
    // Every architecture's emulator, amd64's too (the gate also runs amd64 on the user tier):
    // pinned, not the machine's qemu-user, whose version follows its Debian release.
    pinnedQemuUser,
  ];
}

/**
 * What the system tier adds: the machine's qemu-system binaries, and zstd,
 * which unpacks loong64's kernel and (its xz format) amd64's vmlinux from
 * the bzImage (harness/toolchain/kernels.ts). Rows with a qemuSuite
 * get their QEMU from that suite instead (ensureQemuSystem); kernels are
 * foreign-architecture packages, fetched by ensureKernel, not host commands.
 */
export function systemTierTools(of: readonly Architecture[] = architectures): RequiredTool[] {
  return [
    ...of
      .filter((architecture) => architecture.system.qemuSuite === undefined)
      .map((architecture) => ({ command: architecture.system.qemu, debianPackage: architecture.system.qemuPackage })),
    { command: "zstd", debianPackage: "zstd" },
  ];
}

/** The Debian tools not on PATH. */
export function missingTools(tools: readonly RunTool[]): RequiredTool[] {
  return tools.filter((tool): tool is RequiredTool => "command" in tool && findOnPath(tool.command) === undefined);
}

export { findOnPath };
