/**
 * Descriptors this process was started with beyond stdio (a CI runner's
 * pipe, a shell's leftovers) and that are not close-on-exec would pass on to
 * every driver and every child a driver spawns: Node's spawn closes nothing
 * above 2. A driver reports them in its hello's inherited_fds and the oracle
 * then expects each spawned child to hold them, so the verdicts would depend
 * on the machine: Go's ForkExec, for one, dup3s its error pipe and its moved
 * sources onto the numbers just above its Files table, silently replacing an
 * inherited descriptor that sits there.
 *
 * So, once, before the first driver starts, every such descriptor is marked
 * close-on-exec in this process: drivers start with 0-2 alone, as a CI
 * runner's steps do, whatever the user's shell leaked. They are marked, not
 * closed: this process's own copy stays usable for whoever handed it over.
 * At that point every descriptor without close-on-exec came from outside
 * (Node and libuv open all of theirs with O_CLOEXEC); doing it only once
 * keeps a later descriptor a spawn under test leaked visible to its checks.
 */
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";

/** The O_CLOEXEC bit of /proc/self/fdinfo's octal flags: set while the descriptor is close-on-exec. */
const fdinfoCloseOnExec = 0o2000000;
const F_GETFD = 1;
const F_SETFD = 2;
const FD_CLOEXEC = 1;

/** Descriptors above stdio this process holds without close-on-exec. */
export function inheritableDescriptors(): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc/self/fd")) {
    const fd = Number(name);
    if (!(fd > 2)) continue;
    let info: string;
    try {
      info = readFileSync(`/proc/self/fdinfo/${fd}`, "latin1");
    } catch {
      continue; // readdir's own descriptor, closed since
    }
    const flags = /^flags:\s*([0-7]+)/m.exec(info)?.[1];
    if (flags !== undefined && (parseInt(flags, 8) & fdinfoCloseOnExec) === 0) found.push(fd);
  }
  return found;
}

let marked: number[] | undefined;

/**
 * Marks every descriptor above stdio not yet close-on-exec as close-on-exec,
 * the first time only; returns the descriptors it marked then.
 */
export function closeInheritedDescriptorsOnExec(): number[] {
  marked ??= markCloseOnExec(inheritableDescriptors());
  return marked;
}

function markCloseOnExec(descriptors: number[]): number[] {
  if (!descriptors.length) return [];
  // Loaded only when there is something to mark; synchronously, as a driver's start is.
  const koffi = createRequire(import.meta.url)("koffi") as typeof import("koffi");
  const fcntl = koffi.load("libc.so.6").func("int fcntl(int fd, int cmd, ...)") as (...args: unknown[]) => number;
  for (const fd of descriptors) {
    const flags = fcntl(fd, F_GETFD);
    if (flags < 0 || fcntl(fd, F_SETFD, "int", flags | FD_CLOEXEC) < 0) {
      throw new Error(`cannot mark descriptor ${fd}, inherited without close-on-exec, close-on-exec (fcntl failed): drivers would inherit it`);
    }
  }
  return descriptors;
}
