/**
 * A driver process talked to directly through the protocol, without an
 * observer: what the benchmarks start (a gate's targets add strace or
 * qemu -strace, which would weigh on what a benchmark measures). Every
 * process started here is killed with its descendants if the run stops
 * early (run-cleanup), and stopDriver reaps it.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { LineChannel } from "./line-channel.ts";
import { closeInheritedDescriptorsOnExec } from "../process/inherited-descriptors.ts";
import { killProcessTree } from "../process/process-tree.ts";
import { onCleanup } from "../process/run-cleanup.ts";

export interface DriverProcess {
  child: ChildProcessWithoutNullStreams;
  answers: LineChannel;
  exited: Promise<void>;
  /** What it wrote to stderr, in one line for an error message: its first line, and its last when they differ. */
  stderr: () => string;
}

/** Every driver started here and not yet seen to exit. */
const live = new Set<ChildProcessWithoutNullStreams>();

export function killLiveDrivers(): void {
  for (const child of live) if (child.pid !== undefined) killProcessTree(child.pid);
}
onCleanup(killLiveDrivers);

export function startDriverProcess(program: string, args: readonly string[], options: { cwd: string; env?: Record<string, string> }): DriverProcess {
  closeInheritedDescriptorsOnExec(); // as startTarget: stdio alone from outside
  const child = spawn(program, args, { cwd: options.cwd, env: options.env ?? {}, stdio: ["pipe", "pipe", "pipe"] });
  live.add(child);
  child.on("error", () => {});
  child.stdin.on("error", () => {});
  // The head says what went wrong (a crash's "fatal: ..."), the tail what happened last.
  let stderrHead = "";
  let stderrTail = "";
  child.stderr.setEncoding("latin1");
  child.stderr.on("data", (chunk: string) => {
    if (stderrHead.length < 400) stderrHead += chunk.slice(0, 400 - stderrHead.length);
    stderrTail = (stderrTail + chunk).slice(-400);
  });
  const exited = new Promise<void>((resolve) => {
    child.once("close", () => {
      live.delete(child);
      resolve();
    });
  });
  const stderr = () => {
    const first = stderrHead.split("\n").find((line) => line.trim())?.trim() ?? "";
    const last = stderrTail.split("\n").filter((line) => line.trim()).pop()?.trim() ?? "";
    return first === last ? first : `${first} ... ${last}`;
  };
  return { child, answers: new LineChannel(child.stdout), exited, stderr };
}

/** The driver's next line; past the deadline or at its exit, kills it and throws saying which. */
export async function expectLine(driver: DriverProcess, what: string, deadlineMs: number): Promise<string> {
  const line = await driver.answers.next(deadlineMs);
  if (line === undefined || line === "timeout") {
    if (driver.child.pid !== undefined) killProcessTree(driver.child.pid);
    throw new Error(`no ${what} from the driver (${line === "timeout" ? `no answer within ${(deadlineMs / 1000).toFixed(0)} s` : "it exited"}${driver.stderr() ? `; ${driver.stderr()}` : ""})`);
  }
  return line;
}

/** Closes its stdin (the protocol's end) and waits for it to exit; kills it after 5 s. */
export async function stopDriver(driver: DriverProcess): Promise<void> {
  driver.child.stdin.end();
  const timer = setTimeout(() => driver.child.pid !== undefined && killProcessTree(driver.child.pid), 5000);
  await driver.exited;
  clearTimeout(timer);
}
