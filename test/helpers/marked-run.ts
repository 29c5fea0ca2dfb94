/**
 * Runs the command line as a new user would, and finds what a run left
 * behind: only processes carrying this run's unique marker (in their
 * environment or their arguments), never other runs' drivers and VMs.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";

export interface CommandRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** `vforkcheck ARGS`, SIGKILLed past the deadline (a run that spins or ignores SIGTERM must not hang the test). */
export function runVforkcheck(args: readonly string[], deadlineMs = 120_000, env: Record<string, string> = {}): CommandRun {
  const started = Date.now();
  const run = spawnSync(process.execPath, ["--import=tsx", "harness/cli/vforkcheck.ts", ...args], { encoding: "utf8", timeout: deadlineMs, killSignal: "SIGKILL", maxBuffer: 64 << 20, env: { ...process.env, ...env } });
  return { status: run.status, signal: run.signal, stdout: run.stdout, stderr: run.stderr, seconds: (Date.now() - started) / 1000 };
}

/** A token no other run carries. */
export function uniqueMarker(what: string): string {
  return `vfc-${what}-${process.pid}-${randomBytes(4).toString("hex")}`;
}

/**
 * The --impl-cmd that runs a hostile driver mode with the marker in its
 * environment (and so its descendants'). The script runs by its #! line,
 * the system's python3: not a version manager's shim on PATH, a shell
 * script whose forks under strace -f made a slow, loaded start.
 */
export function hostileDriverCommand(mode: string, marker: string): string {
  return `env VFC_HOSTILE_MARK=${marker} test/fixtures/hostile/driver.py ${mode}`;
}

/** Live processes whose environment or arguments hold the marker (zombies hold neither); where: only those files. */
export function processesMarkedWith(marker: string, where: readonly ("environ" | "cmdline")[] = ["environ", "cmdline"]): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .filter((pid) =>
      where.some((file) => {
        try {
          return readFileSync(`/proc/${pid}/${file}`, "latin1").includes(marker);
        } catch {
          return false; /* gone meanwhile */
        }
      }),
    )
    .map(Number);
}

/**
 * The marked processes still there after a grace for SIGKILLs already sent to
 * take effect (delivery is asynchronous), each as "pid command line".
 */
export async function leftBehind(marker: string, graceMs = 2000): Promise<string[]> {
  for (const until = Date.now() + graceMs; Date.now() < until && processesMarkedWith(marker).length; ) await new Promise((resolve) => setTimeout(resolve, 100));
  return processesMarkedWith(marker).map((pid) => {
    try {
      return `${pid} ${readFileSync(`/proc/${pid}/cmdline`, "latin1").replaceAll("\0", " ").trim()}`;
    } catch {
      return `${pid}`;
    }
  });
}

/** The lines the command said as its verdict ("vforkcheck: ..."), not its progress ("vforkcheck gate: ...", "[target] ..."). */
export function verdictLines(stderr: string): string[] {
  return stderr.split("\n").filter((line) => line.startsWith("vforkcheck: "));
}
