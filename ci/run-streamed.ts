/**
 * Runs one command of ci:fresh or bench:selftest: in its own process group,
 * with no stdin, its stdout and stderr passed on line by line with the time
 * since its start (to this process's stdout, to a log file, and to a
 * callback), and a deadline after which the whole group is killed. On
 * SIGINT/SIGTERM/SIGHUP of this process the group is killed too
 * (harness/process/run-cleanup.ts).
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { Writable } from "node:stream";
import { killProcessTree } from "../harness/process/process-tree.ts";
import { onCleanup } from "../harness/process/run-cleanup.ts";
import { clockTime, type TimedLine } from "../src/selftest.ts";

export interface StreamedCommand {
  argv: readonly string[];
  cwd: string;
  env: Record<string, string>;
  /** Milliseconds from the start; then SIGTERM to the group, and SIGKILL 15 s later. */
  deadlineMs: number;
  /** Written before each line on stdout ("  3:02 │ " follows it). */
  prefix?: string;
  /** Each line, stamped, is also written here. */
  log?: Writable;
  onLine?: (line: TimedLine) => void;
  /** Pass the lines to this process's stdout (default true). */
  echo?: boolean;
}

export interface StreamedRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Seconds from the start to the exit, to a tenth. */
  wall_s: number;
  /** Set when the command could not be started. */
  error?: string;
}

const graceMs = 15_000;

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* the group is gone */
  }
}

/** Kills the command's process group and whatever left it (setsid) below the leader. */
function killAll(pid: number): void {
  killProcessTree(pid);
  signalGroup(pid, "SIGKILL");
}

export function runStreamed(command: StreamedCommand): Promise<StreamedRun> {
  const started = Date.now();
  const [program, ...args] = command.argv as [string, ...string[]];
  const child = spawn(program, args, { cwd: command.cwd, env: command.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const emit = (line: string) => {
    const at_ms = Date.now() - started;
    const stamped = `${command.prefix ?? ""}${clockTime(at_ms / 1000).padStart(5)} │ ${line}\n`;
    if (command.echo !== false) process.stdout.write(stamped);
    command.log?.write(stamped);
    command.onLine?.({ at_ms, line });
  };
  for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream, crlfDelay: Infinity }).on("line", emit);

  let timedOut = false;
  let graceTimer: NodeJS.Timeout | undefined;
  const deadline = setTimeout(() => {
    timedOut = true;
    emit(`(deadline of ${Math.round(command.deadlineMs / 1000)} s reached: SIGTERM to the process group, SIGKILL in ${graceMs / 1000} s)`);
    if (child.pid !== undefined) signalGroup(child.pid, "SIGTERM");
    graceTimer = setTimeout(() => child.pid !== undefined && killAll(child.pid), graceMs);
  }, command.deadlineMs);
  const cleanup = onCleanup(() => child.pid !== undefined && killAll(child.pid));

  return new Promise((resolve) => {
    let exited: { status: number | null; signal: NodeJS.Signals | null; wall_s: number } | undefined;
    let done = false;
    const finish = (error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      clearTimeout(graceTimer);
      cleanup.cancel();
      resolve({ status: exited?.status ?? null, signal: exited?.signal ?? null, timedOut, wall_s: exited?.wall_s ?? Math.round((Date.now() - started) / 100) / 10, ...(error ? { error } : {}) });
    };
    child.on("error", (error) => finish(`cannot start ${program}: ${error.message}`));
    child.on("exit", (status, signal) => {
      exited = { status, signal, wall_s: Math.round((Date.now() - started) / 100) / 10 };
      // What the command left running in its group (a daemon holding the pipes open) goes with it.
      if (child.pid !== undefined) killAll(child.pid);
      // The pipes normally close at once; give the last lines a moment, not forever.
      const drained = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish();
      }, 5000);
      child.on("close", () => {
        clearTimeout(drained);
        finish();
      });
    });
  });
}
