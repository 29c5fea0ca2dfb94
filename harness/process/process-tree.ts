/** Killing a process and every descendant, found through /proc/<pid>/task/<tid>/children. */
import { readdirSync, readFileSync } from "node:fs";

/** The process exists (a zombie counts: it is not reaped yet). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function descendantsOf(pid: number): number[] {
  const found: number[] = [];
  const stack = [pid];
  while (stack.length) {
    const parent = stack.pop()!;
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${parent}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      let children = "";
      try {
        children = readFileSync(`/proc/${parent}/task/${task}/children`, "utf8");
      } catch {
        continue;
      }
      for (const child of children.split(" ").filter(Boolean).map(Number)) {
        found.push(child);
        stack.push(child);
      }
    }
  }
  return found;
}

/** SIGKILL the descendants (deepest first) and then the process itself; the pids signalled. */
export function killProcessTree(pid: number, includeRoot = true): number[] {
  const victims = descendantsOf(pid).reverse();
  if (includeRoot) victims.push(pid);
  for (const victim of victims) {
    try {
      process.kill(victim, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
  return victims;
}

/** Alive and not a zombie: a zombie has died and only waits to be reaped. */
function notDead(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/**
 * Blocks until every one of these pids is dead (gone, or a zombie waiting to
 * be reaped), or until timeoutMs: a SIGKILL is delivered asynchronously, and
 * on a loaded machine a victim (one ptrace-stopped, or waiting on its vfork
 * child) takes a moment to die. The pids, not the descendants found again:
 * a killed parent's children are reparented and would no longer be found.
 * Synchronous: signal handlers call it.
 */
export function waitUntilDead(pids: readonly number[], timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (pids.some(notDead) && Date.now() < deadline) Atomics.wait(pause, 0, 0, 10);
}
