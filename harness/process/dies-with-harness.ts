/**
 * The children the harness starts for itself (clang, lld, go build, apt-get,
 * dpkg-deb, tar, zstd...) die with it, even when it is SIGKILLed and has no
 * chance to clean up: each runs as
 *
 *   setpriv --pdeathsig KILL -- unshare --pid --fork --kill-child -- command args
 *
 * setpriv sets PR_SET_PDEATHSIG and execs unshare, which keeps it; unshare
 * forks the command as the first process of a PID namespace of its own and
 * sets the same signal on it (--kill-child). When the harness dies, the
 * kernel SIGKILLs unshare, then the command; and when a namespace's first
 * process dies, the kernel kills everything in the namespace, so clang's
 * ld.lld and go build's compile and link processes go too.
 *
 * PR_SET_PDEATHSIG fires when the thread that forked the child exits, not
 * the process. That holds here: Node's spawn and spawnSync run uv_spawn on
 * the thread that calls them, and the harness calls them only from the main
 * thread (no worker thread starts a child), which lives as long as the
 * process. A set-user-ID program (sudo) clears the signal on exec: apt's
 * installs through sudo are not covered.
 *
 * Where no PID namespace can be made (unshare --pid needs CAP_SYS_ADMIN),
 * setpriv alone: the command dies with the harness, its own children finish
 * on their own. Where setpriv is missing, the command runs as it is. Either
 * fallback is said once, on stderr.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions, type SpawnSyncOptions, type SpawnSyncReturns } from "node:child_process";
import { findOnPath, isExecutable } from "./find-on-path.ts";

const setpriv = "/usr/bin/setpriv";
const unshare = "/usr/bin/unshare";
const pidNamespace = ["--pid", "--fork", "--kill-child", "--"];

type Protection = "pid-namespace" | "pdeathsig" | "none";

let measured: Protection | undefined;


/** Measured once per process: what can make a child die with the harness here. */
export function childProtection(): Protection {
  if (measured !== undefined) return measured;
  if (!isExecutable(setpriv)) {
    measured = "none";
    process.stderr.write(`vforkcheck: ${setpriv} not found (util-linux): a build or download the harness starts can outlive a killed harness\n`);
  } else if (isExecutable(unshare) && spawnSync(setpriv, ["--pdeathsig", "KILL", "--", unshare, ...pidNamespace, "/bin/true"], { stdio: "ignore", timeout: 10_000 }).status === 0) {
    measured = "pid-namespace";
  } else {
    measured = "pdeathsig";
    process.stderr.write("vforkcheck: no PID namespace can be made here: a killed harness's builds die, their own children (the linker, go's compiler) finish on their own\n");
  }
  return measured;
}


/**
 * The argv that runs `command args` so that it dies with the harness. A
 * command not found on PATH is left as it is, so that spawning it fails
 * with ENOENT as a plain spawn would (callers turn that into "install X").
 */
export function diesWithHarness(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): [string, string[]] {
  const protection = childProtection();
  const resolved = command.includes("/") ? command : findOnPath(command, env.PATH);
  if (protection === "none" || resolved === undefined) return [command, [...args]];
  if (protection === "pdeathsig") return [setpriv, ["--pdeathsig", "KILL", "--", resolved, ...args]];
  return [setpriv, ["--pdeathsig", "KILL", "--", unshare, ...pidNamespace, resolved, ...args]];
}

/** child_process.spawn (always given its args), the child dying with the harness; typed as spawn, for its stdio overloads. */
export const spawnDyingWithHarness = ((command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess => {
  const [program, argv] = diesWithHarness(command, args, options.env ?? process.env);
  return spawn(program, argv, options);
}) as typeof spawn;

/** child_process.spawnSync, the child dying with the harness. */
export function spawnSyncDyingWithHarness(command: string, args: readonly string[], options: SpawnSyncOptions & { encoding: BufferEncoding }): SpawnSyncReturns<string> {
  const [program, argv] = diesWithHarness(command, args, options.env ?? process.env);
  return spawnSync(program, argv, options);
}
