/**
 * Runs one command of ci:fresh or bench:selftest: in its own process group,
 * with no stdin, its stdout and stderr passed on line by line with the time
 * since its start (to this process's stdout, to a log file, and to a
 * callback), and a deadline after which the whole group is killed. On
 * SIGINT/SIGTERM/SIGHUP of this process the group is killed too
 * (harness/process/run-cleanup.ts).
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import type { Writable } from "node:stream";
import { descendantsOf, isRunning, killProcessTree } from "../harness/process/process-tree.ts";
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

/** A process's state and process group from /proc/PID/stat; undefined when it is gone. */
function stat(pid: number): { state: string; group: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    const [state, , group] = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { state: state!, group: Number(group) };
  } catch {
    return undefined;
  }
}

/** Some process other than a zombie (which init may be slow to reap) is in the group or the list. */
function anyLive(group: number, pids: Iterable<number>): boolean {
  const live = (pid: number) => {
    const found = stat(pid);
    return found !== undefined && found.state !== "Z";
  };
  for (const pid of pids) if (live(pid)) return true;
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const found = stat(Number(name));
    if (found?.group === group && found.state !== "Z") return true;
  }
  return false;
}

/**
 * The command's processes: its process group, and the descendants found
 * below its leader while it lived (one that called setsid has left the
 * group). Signalled together; SIGKILL takes each one's descendants too.
 */
class Processes {
  private readonly known = new Set<number>();

  constructor(private readonly leader: number) {}

  /** Remembers the leader's descendants now (only while it lives: after, they are init's). */
  look(): void {
    if (isRunning(this.leader)) for (const pid of descendantsOf(this.leader)) this.known.add(pid);
  }

  signal(signal: NodeJS.Signals): void {
    this.look();
    signalGroup(this.leader, signal);
    for (const pid of this.known) {
      if (signal === "SIGKILL") killProcessTree(pid);
      else
        try {
          process.kill(pid, signal);
        } catch {
          /* gone */
        }
    }
    if (signal === "SIGKILL") killProcessTree(this.leader);
  }

  alive(): boolean {
    return anyLive(this.leader, this.known);
  }
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
  const processes = child.pid === undefined ? undefined : new Processes(child.pid);
  // SIGKILL for all that is left, at the end of the grace after SIGTERM.
  let killed: Promise<void> | undefined;
  const deadline = setTimeout(() => {
    timedOut = true;
    emit(`(deadline of ${Math.round(command.deadlineMs / 1000)} s reached: SIGTERM to the process group, SIGKILL in ${graceMs / 1000} s)`);
    processes?.signal("SIGTERM");
    killed = new Promise((resolve) => {
      const until = Date.now() + graceMs;
      const poll = setInterval(() => {
        processes?.look();
        if (Date.now() < until && processes?.alive()) return;
        clearInterval(poll);
        processes?.signal("SIGKILL");
        resolve();
      }, 250);
    });
  }, command.deadlineMs);
  const cleanup = onCleanup(() => processes?.signal("SIGKILL"));

  return new Promise((resolve) => {
    let exited: { status: number | null; signal: NodeJS.Signals | null; wall_s: number } | undefined;
    let done = false;
    const finish = (error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      cleanup.cancel();
      resolve({ status: exited?.status ?? null, signal: exited?.signal ?? null, timedOut, wall_s: exited?.wall_s ?? Math.round((Date.now() - started) / 100) / 10, ...(error ? { error } : {}) });
    };
    child.on("error", (error) => finish(`cannot start ${program}: ${error.message}`));
    const closed = new Promise<void>((resolve) => child.on("close", () => resolve()));
    child.on("exit", async (status, signal) => {
      exited = { status, signal, wall_s: Math.round((Date.now() - started) / 100) / 10 };
      clearTimeout(deadline);
      // After a deadline's SIGTERM the others get the rest of the grace to clean up;
      // after a normal exit, what the command left running in its group (a daemon
      // holding the pipes open) goes with it.
      if (killed) await killed;
      else processes?.signal("SIGKILL");
      // The pipes normally close at once; give the last lines a moment, not forever.
      let drained: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise((resolve) => (drained = setTimeout(resolve, 5000)))]);
      clearTimeout(drained);
      child.stdout.destroy();
      child.stderr.destroy();
      finish();
    });
  });
}
