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

/** SIGKILL the descendants (deepest first) and then the process itself. */
export function killProcessTree(pid: number, includeRoot = true): void {
  const victims = descendantsOf(pid).reverse();
  if (includeRoot) victims.push(pid);
  for (const victim of victims) {
    try {
      process.kill(victim, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
}
