// Which processes of an earlier snapshot are still running, by identity, not
// by pid alone: pids wrap quickly here (pid_max 32768, and the suite's cases
// start thousands of processes and threads), so a pid seen earlier can name
// another test's process a few seconds later.
import { readFileSync } from "node:fs";

export interface ProcessIdentity {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: clock ticks after boot when it started; with the pid, unique. */
  startTime: string;
  command: string;
}

/** The /proc/<pid>/stat fields after the command (which may hold spaces and parentheses), or undefined when it is gone. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

export function snapshotProcesses(pids: readonly number[]): ProcessIdentity[] {
  return pids.flatMap((pid) => {
    const fields = statFields(pid);
    if (fields === undefined) return [];
    let command = "";
    try {
      command = readFileSync(`/proc/${pid}/cmdline`, "latin1").replaceAll("\0", " ").trim().slice(0, 120);
    } catch {
      // gone meanwhile: its start time still identifies it
    }
    // fields[0] is field 3 (the state), so field 22 is fields[19].
    return [{ pid, startTime: fields[19]!, command }];
  });
}

/** The snapshot's processes still running (not zombies) as the same processes, each named "pid command". */
export function stillRunning(snapshot: readonly ProcessIdentity[]): string[] {
  return snapshot
    .filter((identity) => {
      const fields = statFields(identity.pid);
      return fields !== undefined && fields[19] === identity.startTime && fields[0] !== "Z";
    })
    .map((identity) => `${identity.pid} ${identity.command}`);
}
