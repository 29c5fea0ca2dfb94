/**
 * vforkcheck's Node driver: speaks the driver line protocol
 * (docs/protocol.md) and spawns every case through Node's own
 * child_process.spawn, that is libuv's uv_spawn, the implementation under
 * test. It mirrors the Go driver (impls/go/driver.go) and the reference
 * (native/driver.c) in everything that is not the spawn: parsing and
 * validation, the child's descriptors, the observer markers and the
 * post-case measurements.
 *
 *   node --import=tsx impls/node/driver.ts --driver       (this machine's Node)
 *   node --expose-gc driver.cjs --driver                    (a registry Node: the
 *        same source, transpiled to one CommonJS file, harness/build/node-driver.ts)
 *
 * It uses nothing but Node's own modules, and only what Node 18 has: the
 * registry's releases (18, 20, 24) run it in their own userland, on every
 * tier, under qemu-user and in a VM, where no FFI library can come along.
 *
 * Why a separate Node process and not the harness's own: the spawn under
 * test is the one of a Node process, so the parent must be a Node process,
 * but it must not be the test runner. Here the heap the case's `memory`
 * fills is this process's heap, not the runner's; the process group,
 * session, working directory and descriptor table the oracle reasons about
 * (hello's pgid, sid, cwd, inherited_fds) are this process's alone; the
 * children libuv forks, reaps and counts are this process's children, so
 * nothing the runner spawns (strace, qemu, other drivers) is mixed into
 * zombies/live_children; and a crash, abort or hang inside libuv or koffi
 * takes only this driver down: the harness kills it and its process tree
 * at the deadline and starts a new one, which says hello again.
 *
 * Besides case lines it answers bench lines (features "bench"): it holds
 * the asked memory in this process's heap (Buffers filled with 1, so every
 * page is touched), then times each of a series of plain spawns (the exec
 * target with --exit, from just before child_process.spawn until its 'exit'
 * event), so that the spawn's latency can be set against the size of the
 * spawning process. The hello does not claim "fast_path": libuv forks (see
 * below), so the kernel copies the page tables of all that memory.
 *
 * What Node can and cannot express (so the hello's case features are only:
 * setsid, cwd, fds, memory, repeat_runs):
 *   - setsid  = spawn's `detached: true` (libuv calls setsid() in the child).
 *   - cwd     = spawn's `cwd` (libuv chdir()s in the child; a failure comes
 *               back as the spawn's errno).
 *   - fds     = spawn's `stdio` array: index 0, 1 and 2 'ignore' (libuv
 *               opens /dev/null there: the reference points its 0 and 1 at
 *               /dev/null too; 2 see runCaseLine), 63 'pipe' (the report; libuv
 *               makes a socketpair, not a pipe), each asked descriptor an
 *               integer: a close-on-exec /dev/null this process opened,
 *               which libuv dup2()s onto it; every other index 'ignore', for
 *               which libuv does nothing at 3 and above (no /dev/null), so a
 *               descriptor this process holds without close-on-exec is
 *               inherited as with the reference.
 *   - memory  = Buffer.alloc(n, 1) pieces (heap-memory.ts), held across the spawn.
 *   - clone/unshare flags, id maps, setpgid (Node has no option for a
 *     new group without a session), storm and canaries: not expressible,
 *     such a case gets an `error` line.
 *   - argv must have an argv[0] (spawn's argv0); an empty argv is refused.
 *   - env is an object: entries without '=' and duplicate keys cannot be
 *     passed, nor an order that JS object key order would change (integer
 *     keys come first): refused with an `error` line.
 *   - strings: Node passes path, argv, env and cwd as UTF-8, so a byte
 *     string that is not valid UTF-8 (or holds a NUL) cannot be passed
 *     exactly: refused.
 *   - suspended is `unknown`: uv_spawn returns only after the exec (it
 *     waits on its close-on-exec error pipe), whatever clone it used.
 *   - a path without '/' is passed as "./path": libuv would search PATH
 *     (execvp), execve resolves it against the working directory.
 *   - exec's ENOEXEC cannot be reproduced: libuv's execvp falls back to
 *     running the file with /bin/sh (the child then exits 127 or so, where
 *     the reference answers errno=8). Reported as Node does it.
 *
 * Which clone libuv makes (measured with strace and qemu -strace):
 *   - libuv 1.44 (Node 18) and 1.50 (Node 20) fork: glibc fork(),
 *     clone(CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD), then execvp in
 *     the child, which runs a file execve refuses with ENOEXEC through
 *     /bin/sh (docs/findings.md).
 *   - libuv 1.53 (Node 24) probes once whether vfork shares memory (a
 *     vfork whose child writes a flag), then spawns with glibc's posix_spawn
 *     (clone3 CLONE_VM|CLONE_VFORK|CLONE_CLEAR_SIGHAND) where it does, and
 *     forks as before where it does not (qemu-user). The hello says so
 *     (fast_path_probed) and the oracle expects the clone the target's own
 *     probe implies. A warm-up spawn before the hello makes the probe, so
 *     every case's markers hold its one clone. A bare name would make one
 *     posix_spawn per PATH entry; the driver never passes one (above).
 *
 * Entry points: `spawn` spawns with the process's descriptor table as it
 * is; `spawn_low_fds_taken` first holds every free descriptor below the
 * stdio array's length (close-on-exec /dev/null), so each socketpair libuv
 * makes for a 'pipe' is numbered above every stdio index. libuv 1.53's
 * posix_spawn path aborts the process when a 'pipe' lands on an index above
 * its socketpair's number (docs/findings.md): the first entry point shows
 * it, the second gates the rest of that path.
 *
 * Markers: the observer's case markers are ftruncate(2147483647, id) (start)
 * and ftruncate(2147483646, id) (end), descriptors that can never be open
 * (fs.nr_open is at most 2^30-64), so each fails with EBADF and changes
 * nothing. Node's fs refuses -1 before any system call and has no lseek.
 * Close-on-exec is read from /proc/self/fdinfo (flags & O_CLOEXEC).
 * Node holds 0, 1 and 2 close-on-exec itself; the protocol stays on them,
 * and no child can reach it because the stdio array always puts /dev/null
 * on 0 and 1.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { constants as bufferConstants } from "node:buffer";
import { closeSync, ftruncateSync, openSync, readdirSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import { constants as osConstants, totalmem } from "node:os";

const PROTOCOL_VERSION = 1;
const MAX_LINE_BYTES = 64 << 20;
const MAX_LIST_ITEMS = 100000;
const MAX_REPEAT_COUNT = 64 << 20;
/**
 * The report stays on 63 (no report_fd_any in the features): a "pipe" in
 * Node's stdio is a socketpair, and the exec target tells the report pipe
 * from other descriptors by its pipe size (native/vfc.h), which a socket has
 * not. Only the mapped descriptors (fds) take every shape here.
 */
const REPORT_FD = 63;
/** native/spawn.h SPAWN_MAX_DESCRIPTOR_MOVES; the report takes one. */
const MAX_DESCRIPTOR_MOVES = 64;
const ENTRY_POINTS = ["spawn", "spawn_low_fds_taken"];
/** The descriptors of the start and end markers: never open, so ftruncate fails with EBADF. */
const START_MARKER_FD = 2147483647;
const END_MARKER_FD = 2147483646;
const O_CLOEXEC = 0o2000000;

/** libuv from 1.53 spawns with posix_spawn where its vfork probe finds shared memory (see the header). */
function probesVfork(): boolean {
  const [major, minor] = process.versions.uv!.split(".").map(Number) as [number, number];
  return major > 1 || minor >= 53;
}

function features(): string {
  return ["setsid", "cwd", "fds", "memory", "repeat_runs", "bench", ...(probesVfork() ? ["fast_path_probed"] : [])].join(",");
}

/** The observer marker on the main thread, where uv_spawn runs: ftruncate(<never open>, id) = EBADF. */
function marker(id: bigint, end: boolean): void {
  if (id > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`id ${id}: above 2^53-1, fs.ftruncateSync cannot carry it as a marker`);
  try {
    ftruncateSync(end ? END_MARKER_FD : START_MARKER_FD, Number(id));
  } catch {
    // EBADF, always: the call is the marker.
  }
}

// ---- parent memory held in this process's heap -----------------------------
// (also the in-process reference's, harness/targets/in-process-driver.ts)

const pieceBytes = Math.min(bufferConstants.MAX_LENGTH, 1 << 30);

/** Allocates and touches `bytes` (every byte written, so every page is real) in Buffer-sized pieces; throws (RangeError) if the heap cannot have them. */
export function holdInHeap(bytes: number): Buffer[] {
  const held: Buffer[] = [];
  for (let left = bytes; left > 0; left -= pieceBytes) held.push(Buffer.alloc(Math.min(left, pieceBytes), 1));
  return held;
}

/**
 * One region held from one call to the next (the memory benchmark's bench
 * lines), replaced only when the size asked changes. The old region is given
 * back before the new one is touched: dropped Buffers are freed only when V8
 * collects them, so a full collection runs at once (the process must be
 * started with --expose-gc). Otherwise two processes taking turns at 16 GiB
 * on a 24 GiB machine would each still hold their last turn's.
 */
export class HeldHeap {
  private buffers: Buffer[] = [];
  private bytes = 0;

  /** Holds exactly `bytes` (none for 0); throws with the reason when it cannot. */
  hold(bytes: number): void {
    if (bytes === this.bytes) return;
    const hadSome = this.bytes > 0;
    this.buffers = [];
    this.bytes = 0;
    if (hadSome) collectGarbage();
    // Each 1 GiB piece passes the kernel's check on its own: filling past the machine's memory would end in the OOM killer, not an answer.
    if (bytes > totalmem()) throw new RangeError(`more than this machine's memory (${totalmem()} bytes)`);
    this.buffers = holdInHeap(bytes);
    this.bytes = bytes;
  }

  get heldBytes(): number {
    return this.buffers.reduce((sum, piece) => sum + piece.length, 0);
  }
}

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("cannot give memory back: node was started without --expose-gc");
  gc();
}

/** The project's architecture names (src/architectures.ts), from process.arch. */
function archName(): string {
  const names: Record<string, string> = {
    x64: "amd64", ia32: "386", arm64: "arm64", arm: "arm", ppc64: "ppc64le",
    s390x: "s390x", riscv64: "riscv64", mips64el: "mips64le", loong64: "loong64",
  };
  return names[process.arch] ?? process.arch;
}

// ---- parsing one case line (as native/driver.c parse_case) ----------------

interface ParsedCase {
  id: bigint;
  path?: Buffer;
  cwd?: Buffer;
  argv: Buffer[];
  env: Buffer[];
  cloneFlags: bigint;
  unshareFlags: bigint;
  setsid: boolean;
  setpgid: boolean;
  storm: boolean;
  entry: string;
  uidInside: bigint;
  gidInside: bigint;
  memoryBytes: bigint;
  targets: number[];
  err: string;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** An optional '-', then 1 to 18 digits. */
function parseDecimal(s: string): bigint | undefined {
  return /^-?[0-9]{1,18}$/.test(s) ? BigInt(s) : undefined;
}

const wordBytes = ["x64", "arm64", "ppc64", "s390x", "riscv64", "mips64el", "loong64"].includes(process.arch) ? 8 : 4;

/** A hex number without prefix that fits an unsigned long of this architecture. */
function parseHexNumber(s: string): bigint | undefined {
  if (s.length === 0 || s.length > 2 * wordBytes || !/^[0-9a-fA-F]+$/.test(s)) return undefined;
  return BigInt(`0x${s}`);
}

/** An item: "x", then segments, each two hex digits or "*<count>;" (the byte before, repeated count more times). */
function decodeItem(s: string): Buffer | undefined {
  if (s.length < 1 || s[0] !== "x") return undefined;
  const pieces: Buffer[] = [];
  let total = 0;
  let lastByte = -1;
  let digitsStart = 1;
  const flushDigits = (end: number): boolean => {
    if (end === digitsStart) return true;
    const hex = s.slice(digitsStart, end);
    if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return false;
    const bytes = Buffer.from(hex, "hex");
    pieces.push(bytes);
    total += bytes.length;
    lastByte = bytes[bytes.length - 1];
    return true;
  };
  for (let i = 1; i < s.length; ) {
    if (s[i] !== "*") { i++; continue; }
    if (!flushDigits(i)) return undefined;
    const end = s.indexOf(";", i + 1);
    if (lastByte < 0 || end < 0) return undefined;
    const count = parseDecimal(s.slice(i + 1, end));
    if (count === undefined || count < 1n || count > BigInt(MAX_REPEAT_COUNT)) return undefined;
    pieces.push(Buffer.alloc(Number(count), lastByte));
    total += Number(count);
    i = end + 1;
    digitsStart = i;
  }
  if (!flushDigits(s.length)) return undefined;
  return Buffer.concat(pieces, total);
}

function decodeList(s: string): Buffer[] | undefined {
  if (s === "") return [];
  const parts = s.split(",");
  if (parts.length > MAX_LIST_ITEMS) return undefined;
  const items: Buffer[] = [];
  for (const part of parts) {
    const item = decodeItem(part);
    if (item === undefined) return undefined;
    items.push(item);
  }
  return items;
}

/** "5,9" (empty: none): each 0..1023, at most capacity of them. */
function decodeNumbers(s: string, capacity: number): number[] | undefined {
  if (s === "") return [];
  const out: number[] = [];
  for (const part of s.split(",")) {
    const v = parseDecimal(part);
    if (out.length === capacity || v === undefined || v < 0n || v > 1023n) return undefined;
    out.push(Number(v));
  }
  return out;
}

/**
 * Calls field for each "key=value" of line from at (fields are separated by
 * single spaces) until one refuses; returns why the line was refused, or "".
 */
function eachField(line: string, at: number, field: (key: string, value: string) => string): string {
  while (at < line.length) {
    let end = line.indexOf(" ", at);
    if (end < 0) end = line.length;
    const token = line.slice(at, end);
    const eq = token.indexOf("=");
    if (eq < 0) return "field without '='";
    const refused = field(token.slice(0, eq), token.slice(eq + 1));
    if (refused !== "") return refused;
    at = end + 1;
  }
  return "";
}

function parseCase(line: string): ParsedCase {
  const c: ParsedCase = {
    id: -1n, argv: [], env: [], cloneFlags: 0n, unshareFlags: 0n, setsid: false, setpgid: false,
    storm: false, entry: ENTRY_POINTS[0]!, uidInside: -1n, gidInside: -1n, memoryBytes: 0n, targets: [], err: "",
  };
  if (!line.startsWith("case ")) {
    c.err = "expected a line starting with 'case ' or 'bench '";
    return c;
  }
  c.err = eachField(line, "case ".length, (key, value) => {
    let ok = true;
    switch (key) {
      case "id": {
        const v = parseDecimal(value);
        if (v === undefined) ok = false; else c.id = v;
        break;
      }
      case "path":
      case "cwd": {
        const v = decodeItem(value);
        if (v === undefined) ok = false; else c[key] = v;
        break;
      }
      case "argv":
      case "env": {
        const v = decodeList(value);
        if (v === undefined) ok = false; else c[key] = v;
        break;
      }
      case "clone":
      case "unshare": {
        const v = parseHexNumber(value);
        if (v === undefined) ok = false; else if (key === "clone") c.cloneFlags = v; else c.unshareFlags = v;
        break;
      }
      case "setsid":
      case "setpgid":
      case "storm": {
        const v = parseDecimal(value);
        if (v === undefined || v < 0n || v > 1n) ok = false; else c[key] = v === 1n;
        break;
      }
      case "uid":
      case "gid": {
        const v = parseDecimal(value);
        if (v === undefined) ok = false; else if (key === "uid") c.uidInside = v; else c.gidInside = v;
        break;
      }
      case "memory": {
        const v = parseDecimal(value);
        if (v === undefined || v < 0n) ok = false; else c.memoryBytes = v;
        break;
      }
      case "fds": {
        const v = decodeNumbers(value, MAX_DESCRIPTOR_MOVES - 1);
        if (v === undefined) ok = false; else c.targets = v;
        break;
      }
      case "entry":
        if (!ENTRY_POINTS.includes(value)) return "entry: not one of this driver's entry_points";
        c.entry = value;
        break;
      default:
        return "unknown field";
    }
    return ok ? "" : "malformed field value";
  });
  if (c.err !== "") return c;
  // What child_process.spawn has no option for: refused, never run without it.
  if (c.storm) c.err = "storm: not supported by the node driver";
  else if (c.cloneFlags !== 0n) c.err = "clone flags: not expressible with child_process.spawn";
  else if (c.unshareFlags !== 0n) c.err = "unshare flags: not expressible with child_process.spawn";
  else if (c.setpgid) c.err = "setpgid: not expressible with child_process.spawn (detached is setsid)";
  if (c.id < 0n) c.err = "missing id";
  else if (c.path === undefined) c.err = "missing path";
  return c;
}

// ---- what Node can pass --------------------------------------------------

/** The bytes as the string Node will encode back to exactly them (UTF-8, no NUL), or an error. */
function nodeString(bytes: Buffer, what: string): string {
  if (bytes.includes(0)) throw new Error(`${what}: contains NUL, child_process cannot pass it`);
  const text = bytes.toString("utf8");
  if (!Buffer.from(text, "utf8").equals(bytes)) throw new Error(`${what}: not valid UTF-8, child_process passes strings as UTF-8`);
  return text;
}

/** The path as spawn's file: exactly these bytes, and execve's meaning of a name without '/'. */
function spawnFile(path: Buffer): string {
  const file = nodeString(path, "path");
  if (file === "") throw new Error("path: empty, child_process refuses it");
  // libuv searches PATH (uv__execvpe) for a name without '/'; execve
  // resolves it against the working directory, as "./name" does.
  return file.includes("/") ? file : `./${file}`;
}

/** The case's environment as the object spawn turns back into exactly these KEY=VALUE strings, in order. */
function environmentObject(env: Buffer[]): Record<string, string> {
  const object: Record<string, string> = Object.create(null) as Record<string, string>;
  const keys: string[] = [];
  for (const [index, entry] of env.entries()) {
    const text = nodeString(entry, `env[${index}]`);
    const eq = text.indexOf("=");
    if (eq < 0) throw new Error(`env[${index}]: an entry without '=' cannot be passed in spawn's env object`);
    const key = text.slice(0, eq);
    if (Object.prototype.hasOwnProperty.call(object, key)) throw new Error(`env[${index}]: duplicate key ${JSON.stringify(key.slice(0, 40))} cannot be passed in spawn's env object`);
    object[key] = text.slice(eq + 1);
    keys.push(key);
  }
  const order = Object.keys(object);
  if (order.some((key, i) => key !== keys[i])) throw new Error("env: integer-like keys would be reordered by the JS object spawn takes");
  return object;
}

// ---- measurements ----------------------------------------------------------

/** The open descriptors of this process (the directory's own descriptor is counted both times alike). */
function openDescriptors(): number[] {
  return readdirSync("/proc/self/fd").map(Number).filter((fd) => Number.isInteger(fd)).sort((a, b) => a - b);
}

/** A descriptor's open flags (octal in /proc/self/fdinfo), close-on-exec among them; undefined once it is closed. */
function descriptorFlags(fd: number): number | undefined {
  try {
    const flags = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "latin1"))?.[1];
    return flags === undefined ? undefined : parseInt(flags, 8);
  } catch {
    return undefined;
  }
}

/**
 * Takes every free descriptor below `below` (close-on-exec /dev/null), for
 * the spawn_low_fds_taken entry point; the caller closes them after.
 */
function takeLowDescriptors(below: number): number[] {
  const taken: number[] = [];
  for (;;) {
    const fd = openSync("/dev/null", "r"); // O_RDONLY|O_CLOEXEC: the lowest free number
    if (fd >= below) {
      closeSync(fd);
      return taken;
    }
    taken.push(fd);
  }
}

/**
 * What every child gets without asking: 0, 1 and 2, which the stdio array
 * always fills (Node itself holds them close-on-exec), and every descriptor
 * this process holds without close-on-exec.
 */
function inheritedDescriptors(): number[] {
  const open = openDescriptors().filter((fd) => {
    const flags = descriptorFlags(fd);
    return flags !== undefined && (flags & O_CLOEXEC) === 0;
  });
  return [...new Set([0, 1, 2, ...open])].sort((a, b) => a - b);
}

/** The pids of this process's children, from /proc/self/task/<tid>/children (no wait: libuv reaps its own). */
function childPids(): number[] {
  const pids: number[] = [];
  try {
    for (const tid of readdirSync("/proc/self/task")) {
      try {
        pids.push(...readFileSync(`/proc/self/task/${tid}/children`, "latin1").split(" ").filter((s) => s !== "").map(Number));
      } catch { /* the thread ended */ }
    }
  } catch { /* no /proc */ }
  return pids;
}

function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}

function selfStat(): string[] {
  const stat = readFileSync("/proc/self/stat", "latin1");
  // Fields after "(comm)": state ppid pgrp session ...
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

function positiveErrno(error: unknown): number {
  const e = error as { errno?: unknown; code?: unknown };
  if (typeof e.errno === "number" && e.errno < 0) return -e.errno; // libuv's errors are -errno on Linux
  if (typeof e.errno === "number" && e.errno > 0) return e.errno;
  if (typeof e.code === "string") {
    const n = (osConstants.errno as Record<string, number>)[e.code];
    if (typeof n === "number") return n;
  }
  return osConstants.errno.EINVAL;
}

// ---- running one case ------------------------------------------------------

function errorLine(id: bigint, reason: string): string {
  return `error id=${id} reason=${Buffer.from(reason, "latin1").toString("hex")}\n`;
}

async function runCaseLine(line: string): Promise<string> {
  const c = parseCase(line);
  if (c.err !== "") return errorLine(c.id, c.err);

  let file: string, args: string[], env: Record<string, string>, cwd: string | undefined;
  try {
    file = spawnFile(c.path!);
    if (c.argv.length === 0) throw new Error("argv: empty, child_process always passes an argv[0]");
    args = c.argv.map((arg, i) => nodeString(arg, `argv[${i}]`));
    env = environmentObject(c.env);
    cwd = c.cwd === undefined ? undefined : nodeString(c.cwd, "cwd");
    if (cwd === "") throw new Error("cwd: empty, child_process treats it as no cwd");
  } catch (error) {
    return errorLine(c.id, (error as Error).message);
  }

  // Best effort, as the reference: a case runs without memory it cannot have.
  let memory: Buffer[] = [];
  try {
    memory = holdInHeap(Number(c.memoryBytes));
  } catch (error) {
    process.stderr.write(`node driver: could not hold ${c.memoryBytes} bytes: ${String(error)}\n`);
  }
  const before = openDescriptors().length;
  const childrenBefore = new Set(childPids());

  // The child's descriptor table, as the reference child's (see the header).
  let length = REPORT_FD + 1;
  for (const target of c.targets) length = Math.max(length, target + 1);
  const stdio: Array<"ignore" | "pipe" | number> = new Array(length).fill("ignore");
  // 2 is /dev/null too, not this process's stderr: that is the observer's
  // stream (strace writes its lines there), and a child that writes to it
  // (the /bin/sh libuv's execvp runs for an ENOEXEC file) would cut a
  // marker's line in two. The exec target reports through 63.
  stdio[2] = "ignore";
  stdio[REPORT_FD] = "pipe";
  const sources: number[] = [];
  try {
    for (const target of c.targets) {
      const nullFd = openSync("/dev/null", "r"); // O_RDONLY|O_CLOEXEC
      sources.push(nullFd);
      stdio[target] = nullFd; // a later move wins, as in the reference
    }
  } catch (error) {
    for (const fd of sources) closeSync(fd);
    return errorLine(c.id, `cannot open /dev/null: ${(error as Error).message}`);
  }

  let taken: number[] = [];
  if (c.entry === "spawn_low_fds_taken") {
    try {
      taken = takeLowDescriptors(length);
    } catch (error) {
      for (const fd of sources) closeSync(fd);
      return errorLine(c.id, `cannot hold the low descriptors: ${(error as Error).message}`);
    }
  }
  let child: ChildProcess | undefined;
  let spawnError: unknown;
  marker(c.id, false);
  try {
    child = spawn(file, args.slice(1), { argv0: args[0], env, cwd, detached: c.setsid, stdio, shell: false, windowsHide: false });
  } catch (error) {
    spawnError = error;
  }
  marker(c.id, true);
  for (const fd of [...sources, ...taken]) closeSync(fd);

  let out = `result id=${c.id}`;
  if (child !== undefined) {
    const spawned = child;
    const reportChunks: Buffer[] = [];
    const reportStream = (spawned.stdio as unknown as Array<NodeJS.ReadableStream | null | undefined>)[REPORT_FD];
    const reportDone = new Promise<void>((resolve) => {
      if (reportStream === null || reportStream === undefined) return resolve();
      reportStream.on("data", (chunk: Buffer) => reportChunks.push(chunk));
      reportStream.on("error", () => resolve());
      reportStream.on("close", () => resolve());
    });
    let exitCode: number | null = null;
    let exitSignal: NodeJS.Signals | null = null;
    let exited = false;
    let asyncError: unknown;
    spawned.on("error", (error) => { asyncError ??= error; });
    spawned.on("exit", (code, signal) => { exited = true; exitCode = code; exitSignal = signal; });
    await new Promise<void>((resolve) => spawned.on("close", () => resolve()));
    await reportDone;
    if (spawned.pid === undefined || asyncError !== undefined && !exited) spawnError = asyncError ?? new Error("no pid");
    if (spawnError === undefined) {
      const report = Buffer.concat(reportChunks).toString("latin1").replace(/\n+$/, "");
      const status = exitSignal !== null ? `signaled:${osConstants.signals[exitSignal as NodeJS.Signals] ?? 0}` : `exited:${exitCode ?? 0}`;
      out += ` outcome=spawned pid=${spawned.pid} waited=${exited ? 1 : 0} status=${status} suspended=unknown report=x${Buffer.from(report, "latin1").toString("hex")}`;
    }
  }
  // failed_pid: what the failed spawn's ChildProcess says its pid is (none: no object, or no pid on it).
  if (spawnError !== undefined) out += ` outcome=error errno=${positiveErrno(spawnError)} failed_pid=${child?.pid ?? "none"}`;

  // Let libuv finish closing what the case used before counting.
  await new Promise((resolve) => setImmediate(resolve));
  let zombies = 0, live = 0;
  for (const pid of childPids()) {
    if (childrenBefore.has(pid)) continue;
    if (processState(pid) === "Z") zombies++; else live = 1;
  }
  const leaked = openDescriptors().length - before;
  out += ` zombies=${zombies} live_children=${live} leaked_fds=${leaked} stack_canaries=ok register_canaries=ok\n`;
  memory.length = 0;
  return out;
}

// ---- running one bench line ----------------------------------------------

interface ParsedBench {
  id: bigint;
  path?: Buffer;
  memoryBytes?: bigint;
  spawns?: number;
  err: string;
}

/**
 * "bench id=N path=<item> memory=<bytes> spawns=<1..10000>", every field
 * required: a missing memory would otherwise silently release what is held.
 */
function parseBench(line: string): ParsedBench {
  const b: ParsedBench = { id: -1n, err: "" };
  b.err = eachField(line, "bench ".length, (key, value) => {
    let ok = true;
    switch (key) {
      case "id": {
        const v = parseDecimal(value);
        if (v === undefined) ok = false; else b.id = v;
        break;
      }
      case "path": {
        const v = decodeItem(value);
        if (v === undefined) ok = false; else b.path = v;
        break;
      }
      case "memory": {
        const v = parseDecimal(value);
        if (v === undefined || v < 0n) ok = false; else b.memoryBytes = v;
        break;
      }
      case "spawns": {
        const v = parseDecimal(value);
        if (v === undefined || v < 1n || v > 10000n) ok = false; else b.spawns = Number(v);
        break;
      }
      default:
        return "unknown field";
    }
    return ok ? "" : "malformed field value";
  });
  if (b.err !== "") return b;
  if (b.id < 0n) b.err = "missing id";
  else if (b.path === undefined) b.err = "missing path";
  else if (b.memoryBytes === undefined) b.err = "missing memory";
  else if (b.spawns === undefined) b.err = "missing spawns";
  return b;
}

/** The memory bench lines hold, kept from one line to the next (heap-memory.ts). */
const benchHeap = new HeldHeap();

/** Makes the held region exactly size bytes (none for 0); returns why it could not, or "". */
function holdBenchMemory(size: bigint): string {
  try {
    benchHeap.hold(Number(size));
  } catch (error) {
    return `memory: cannot hold ${size} bytes: ${(error as Error).message}`;
  }
  return "";
}

/**
 * Spawn number n of a bench, timed from just before child_process.spawn
 * until its 'exit' event (libuv has reaped the child by then): the
 * nanoseconds, or why it failed. Only what a plain spawn needs: argv
 * [file, "--exit"], an empty environment, no cwd, /dev/null on 0, 1 and 2
 * ('ignore'), nothing else.
 */
function timeSpawn(file: string, n: number): Promise<bigint | string> {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    let child: ChildProcess;
    try {
      child = spawn(file, ["--exit"], { argv0: file, env: {}, stdio: "ignore" });
    } catch (error) {
      return resolve(`spawn ${n}: errno ${positiveErrno(error)}`);
    }
    child.on("error", (error) => resolve(`spawn ${n}: errno ${positiveErrno(error)}`));
    child.on("exit", (code, signal) => {
      const elapsed = process.hrtime.bigint() - start;
      if (signal !== null) resolve(`spawn ${n}: killed by signal ${osConstants.signals[signal] ?? signal}`);
      else if (code !== 0) resolve(`spawn ${n}: child exited ${code}`);
      else resolve(elapsed);
    });
  });
}

/** Answers "timings id=N ns=<d1>,<d2>,..." or "timings id=N failure=<item>". No observer markers: a bench is not a case. */
async function runBenchLine(line: string): Promise<string> {
  const b = parseBench(line);
  if (b.err !== "") return errorLine(b.id, b.err);
  let file: string;
  try {
    file = spawnFile(b.path!);
  } catch (error) {
    return errorLine(b.id, (error as Error).message);
  }
  let failure = holdBenchMemory(b.memoryBytes!);
  const timings: bigint[] = [];
  for (let n = 1; failure === "" && n <= b.spawns!; n++) {
    const timing = await timeSpawn(file, n);
    if (typeof timing === "string") failure = timing; else timings.push(timing);
  }
  if (failure !== "") return `timings id=${b.id} failure=x${Buffer.from(failure, "latin1").toString("hex")}\n`;
  return `timings id=${b.id} ns=${timings.join(",")}\n`;
}

/** The answer to one input line: a bench line's or a case line's. */
function answerLine(line: string): Promise<string> {
  return line.startsWith("bench ") ? runBenchLine(line) : runCaseLine(line);
}

// ---- hello -----------------------------------------------------------------

function hello(): string {
  const stat = selfStat();
  const cwd = Buffer.from(process.cwd(), "utf8").toString("hex");
  return `hello protocol=${PROTOCOL_VERSION} impl=node arch=${archName()} pid=${process.pid} euid=${process.geteuid!()} egid=${process.getegid!()} pgid=${stat[2]} sid=${stat[3]} cwd=x${cwd} inherited_fds=${inheritedDescriptors().join(",")} report_fd=${REPORT_FD} features=${features()} entry_points=${ENTRY_POINTS.join(",")}\n`;
}

// ---- the driver loop -------------------------------------------------------

function write(text: string): void {
  process.stdout.write(text, "latin1");
}

function finish(status: number): void {
  process.stdout.write("", () => process.exit(status));
}

/**
 * Spawns before the hello, so that what the runtime does once per process
 * happens outside every case's markers and counts:
 *   - libuv 1.53's one-time vfork probe, and its clone (spawnSync: the
 *     probe runs on the first spawn of any loop);
 *   - the descriptor Node or libuv opens on the main loop's first spawn
 *     with stdio (a /dev/null it keeps, measured on Node 18 and 24): in a
 *     case it would read as a descriptor the spawn leaked.
 * Both spawn "/", which fails (EACCES) whichever path libuv takes. The
 * second has a 'pipe' at index 3, which no socketpair is numbered below (so
 * libuv 1.53 does not abort), and nothing else taken: what it keeps open
 * lands on a low number, never on the temporary number (the stdio array's
 * length) libuv 1.53 closes in the parent after a renumbered 'pipe'.
 */
async function warmUp(): Promise<void> {
  spawnSync("/", [], { stdio: "ignore", env: {} });
  await new Promise<void>((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn("/", [], { stdio: ["ignore", "ignore", "ignore", "pipe"], env: {} });
    } catch {
      return resolve();
    }
    child.on("error", () => resolve());
    child.on("close", () => resolve());
  });
  await new Promise((resolve) => setImmediate(resolve));
}

async function driverMain(): Promise<void> {
  await warmUp();
  write(hello());
  let parts: Buffer[] = [];
  let partLength = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(10, start);
      if (newline < 0) {
        if (start < chunk.length) {
          parts.push(chunk.subarray(start));
          partLength += chunk.length - start;
        }
        if (partLength > MAX_LINE_BYTES) {
          write(errorLine(-1n, "line too long"));
          return finish(2);
        }
        break;
      }
      const line = Buffer.concat([...parts, chunk.subarray(start, newline)]);
      parts = [];
      partLength = 0;
      start = newline + 1;
      if (line.length > MAX_LINE_BYTES) {
        write(errorLine(-1n, "line too long"));
        return finish(2);
      }
      if (line.length === 0) continue;
      let answer: string;
      try {
        answer = await answerLine(line.toString("latin1"));
      } catch (error) {
        // Never crash on a case: say what went wrong instead.
        const id = /(?:^| )id=([0-9]{1,18})(?: |$)/.exec(line.subarray(0, 4096).toString("latin1"))?.[1] ?? "-1";
        answer = errorLine(BigInt(id), `node driver: ${String(error)}`);
      }
      write(answer);
    }
  }
  finish(0); // the harness closed stdin: done
}

// Run as a program (driver.ts, driver.cjs, a VM's /driver), not when the in-process reference imports its heap.
if (/^driver(\.[cm]?[jt]s)?$/.test(basename(process.argv[1] ?? ""))) {
  if (process.argv.length === 3 && process.argv[2] === "--driver") {
    void driverMain();
  } else {
    process.stderr.write("usage: node --import=tsx impls/node/driver.ts --driver (serves the protocol of docs/protocol.md on stdin/stdout)\n");
    process.exitCode = 2;
  }
}
