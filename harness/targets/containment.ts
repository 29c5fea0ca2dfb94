/**
 * Every process an implementation starts dies with its run, whatever it
 * does (setsid, double fork, SIGTERM ignored): each driver of the host and
 * user tiers, and the probe beside it, runs in a PID namespace of its own.
 * Killing the namespace's first process kills everything in it; the first
 * process also dies when the harness does (PR_SET_PDEATHSIG via setpriv,
 * and unshare --kill-child for its forked child).
 *
 * Inside, /proc is the namespace's own (--mount-proc, in a private mount
 * namespace: the host's mounts are unchanged), so the pids a driver reports,
 * the pids strace or qemu -strace prints and the pids in /proc/<pid>/uid_map
 * are all the namespace's. The first process is a shell that only waits, so
 * that the program is never pid 1 (pid 1 ignores signals it has no handler
 * for, which would change what a spawn does and what the probe measures).
 *
 * Where no PID namespace can be made (unshare --pid needs CAP_SYS_ADMIN),
 * the host's reference build runs the program in --reap-all mode
 * (native/reap-all.c): a child subreaper, so a double-forked setsid helper
 * stays below it, that SIGKILLs everything left below it when the program
 * ends, when it gets SIGTERM, or when the harness dies (PR_SET_PDEATHSIG);
 * the harness kills it with its descendants (process-tree.ts).
 * VFORKCHECK_CONTAINMENT=subreaper forces the fallback (its tests).
 */
import { spawnSync } from "node:child_process";
import { constants } from "node:os";
import { buildNative } from "../build/build.ts";
import { TargetUnavailableError } from "../implementations/adapter.ts";

export type ContainmentKind = "pid-namespace" | "subreaper";

const setpriv = "/usr/bin/setpriv";
const unshare = "/usr/bin/unshare";
const namespaceArgs = ["--pid", "--fork", "--kill-child", "--mount-proc", "--"];
// dash exports PWD to what it runs; the drivers' environment is the harness's to set (empty, or PATH alone).
const waitingShell = ["/bin/sh", "-c", 'unset PWD; "$@"; exit $?', "contained"];

let measured: ContainmentKind | undefined;

/** Measured once per run: can this process make a PID namespace here? */
export function containmentKind(): ContainmentKind {
  if (process.env.VFORKCHECK_CONTAINMENT === "subreaper") return "subreaper";
  measured ??= spawnSync(setpriv, ["--pdeathsig", "KILL", unshare, ...namespaceArgs, "/bin/true"], { stdio: "ignore", timeout: 10_000 }).status === 0 ? "pid-namespace" : "subreaper";
  return measured;
}

/**
 * The waiting shell, first laying each overlay's lower directory over its
 * target in the namespace's private mounts (the host's mounts are unchanged).
 */
function waitingShellWith(overlays: readonly Overlay[]): string[] {
  if (overlays.length === 0) return waitingShell;
  const mounts = overlays.map((_, index) => `mount -t overlay vforkcheck-userland -o "lowerdir=$${2 * index + 1}:$${2 * index + 2}" "$${2 * index + 2}" || exit 125`);
  return ["/bin/sh", "-c", `unset PWD; ${mounts.join("; ")}; shift ${2 * overlays.length}; "$@"; exit $?`, "contained", ...overlays.flatMap((overlay) => [overlay.from, overlay.over])];
}

/** A directory laid over another for the contained program alone (DriverCommand's overlays). */
export interface Overlay {
  from: string;
  over: string;
}

/**
 * The command that runs program with args contained: in a PID namespace of
 * its own when one can be made, else under the subreaper. Overlays need the
 * namespace's private mounts: without them the target cannot run here, a
 * skip that says so.
 */
export async function containedCommand(program: string, args: readonly string[], overlays: readonly Overlay[] = []): Promise<[string, string[]]> {
  const unusable = overlays.map((overlay) => overlay.from).find((path) => /[:,\\]/.test(path));
  if (unusable !== undefined) throw new Error(`${unusable}: an overlay's directory cannot hold ':', ',' or '\\' (mount's lowerdir list)`);
  if (overlays.length > 0 && containmentKind() === "subreaper")
    throw new TargetUnavailableError(`it reads ${overlays.map((overlay) => overlay.over).join(", ")} by absolute path, laid over from its userland in a mount namespace of its own, and this process cannot make one (unshare needs CAP_SYS_ADMIN); the user tier runs it`);
  if (containmentKind() === "subreaper") {
    // execve takes no PATH search: a bare name ("strace") is looked up here.
    const resolved = program.includes("/") ? program : (spawnSync("/bin/sh", ["-c", 'command -v "$1"', "sh", program], { encoding: "utf8" }).stdout.trim() || program);
    return [await buildNative({ arch: "amd64", kind: "static" }), ["--reap-all", resolved, ...args]];
  }
  return [setpriv, ["--pdeathsig", "KILL", unshare, ...namespaceArgs, ...waitingShellWith(overlays), program, ...args]];
}

/**
 * How a contained program ended, in words: the waiting shell and the
 * subreaper report a program killed by signal N as exit 128+N, so that
 * reads as the signal.
 */
export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `signal ${signal}`;
  if (code !== null && code > 128) {
    const name = Object.entries(constants.signals).find(([, number]) => number === code - 128)?.[0];
    if (name) return `signal ${name}`;
  }
  return `exit ${code ?? "?"}`;
}
