/**
 * The system tier's initramfs: a newc cpio archive (uncompressed; every
 * kernel takes it) holding
 *   /init        the reference build, run as `/init --system-init <ms>`
 *   /reference   -> /init: the probe and the child-mode exec target
 *   /driver      the implementation under test (its --driver mode): its
 *                static program, or, for a runtime in a userland (a CPython
 *                release's), the driver script behind a #! line naming the
 *                runtime's program, with the userland's files at the root
 *                (/usr, /lib, /etc: the program's loader and libraries)
 *   /fixtures/   the fixture layout (harness/build/fixtures.ts)
 *   /dev/console, /dev/null, /proc
 * The kernel opens /dev/console as process 1's descriptors 0-2 when it exists.
 */
import { createHash } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join, relative } from "node:path";
import { writeFileAtomically } from "../toolchain/cache-entry.ts";
import { fixtureEntries } from "./fixtures.ts";

export const systemFixturesDirectory = "/fixtures";
export const systemExecTarget = "/reference";

interface CpioEntry {
  name: string;
  mode: number;
  content?: Buffer;
  device?: [number, number];
}

/** What the archive needs of an implementation's DriverCommand (harness/implementations/adapter.ts). */
interface DriverProgram {
  program: string;
  args: readonly string[];
  userland?: string;
}

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

function padTo4(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

/** One newc header + name + data, each padded to 4 bytes. */
function cpioRecord(entry: CpioEntry, inode: number): Buffer {
  const content = entry.content ?? Buffer.alloc(0);
  const name = Buffer.from(`${entry.name}\0`, "latin1");
  const [major, minor] = entry.device ?? [0, 0];
  const fields = [inode, entry.mode, 0, 0, 1, 0, content.length, 0, 0, major, minor, name.length, 0];
  const header = Buffer.from(`070701${fields.map((value) => value.toString(16).padStart(8, "0")).join("")}`, "latin1");
  return Buffer.concat([header, name, padTo4(header.length + name.length), content, padTo4(content.length)]);
}

/** A cpio archive of these entries, in order, with its trailer. Pure. */
export function cpioArchive(entries: readonly CpioEntry[]): Buffer {
  const records = entries.map((entry, index) => cpioRecord(entry, index + 1));
  records.push(cpioRecord({ name: "TRAILER!!!", mode: 0 }, 0));
  return Buffer.concat(records);
}

/**
 * The archive for one system-tier target: init and probe from the reference build, the driver from the implementation's.
 * virtioConsole (the system benchmark's virtio-console column): /dev/hvc0, and the kernel modules init loads, in order, as /modules/NN.ko.
 */
export function systemInitramfs(referenceBuild: string, driver: DriverProgram, virtioConsole?: { modules: readonly string[] }): Buffer {
  const fixtures = fixtureEntries(systemFixturesDirectory).map((entry): CpioEntry => {
    const name = `${systemFixturesDirectory.slice(1)}/${entry.name}`;
    if (entry.kind === "file") return { name, mode: S_IFREG | entry.mode, content: entry.content };
    if (entry.kind === "directory") return { name, mode: S_IFDIR | 0o755 };
    return { name, mode: S_IFLNK | 0o777, content: Buffer.from(entry.target, "latin1") };
  });
  return cpioArchive([
    { name: "dev", mode: S_IFDIR | 0o755 },
    { name: "dev/console", mode: S_IFCHR | 0o600, device: [5, 1] },
    { name: "dev/null", mode: S_IFCHR | 0o666, device: [1, 3] },
    { name: "proc", mode: S_IFDIR | 0o755 },
    { name: "init", mode: S_IFREG | 0o755, content: readFileSync(referenceBuild) },
    { name: "reference", mode: S_IFLNK | 0o777, content: Buffer.from("/init", "latin1") },
    ...(driver.userland === undefined ? [{ name: "driver", mode: S_IFREG | 0o755, content: readFileSync(driver.program) }] : userlandDriverEntries(driver, driver.userland)),
    { name: "fixtures", mode: S_IFDIR | 0o755 },
    ...fixtures,
    ...(virtioConsole ? [
      { name: "dev/hvc0", mode: S_IFCHR | 0o600, device: [229, 0] as [number, number] },
      { name: "modules", mode: S_IFDIR | 0o755 },
      ...virtioConsole.modules.map((module, index) => ({ name: `modules/${String(index).padStart(2, "0")}.ko`, mode: S_IFREG | 0o644, content: readFileSync(module) })),
    ] : []),
  ]);
}

/**
 * The archive as a file of `directory` (the build cache), named by its
 * content: <prefix>-<sha256>.cpio. Written to <name>.<pid>.tmp and renamed,
 * so a killed run leaves no partial archive under the final name, only a
 * temporary the next run sweeps (cache-entry.ts). A file already there is
 * used when its content still has that sha256, else written again with a
 * line. Synchronous: a target's constructor calls it.
 */
export function initramfsFile(directory: string, prefix: string, archive: Buffer, log: (line: string) => void): string {
  const digest = createHash("sha256").update(archive).digest("hex");
  const path = join(directory, `${prefix}-${digest.slice(0, 16)}.cpio`);
  if (existsSync(path)) {
    if (createHash("sha256").update(readFileSync(path)).digest("hex") === digest) return path;
    log(`the cached initramfs ${path} does not hold what its name says (truncated or altered): written again`);
  }
  writeFileAtomically(path, archive);
  return path;
}

/** Every file, directory and symlink under `root`, parents first, named relative to it; symlinks as they are (the root's are relative). */
function treeEntries(root: string): CpioEntry[] {
  const entries: CpioEntry[] = [];
  const walk = (directory: string) => {
    for (const name of readdirSync(directory).sort()) {
      const path = join(directory, name);
      const stat = lstatSync(path);
      const entryName = relative(root, path);
      if (stat.isSymbolicLink()) entries.push({ name: entryName, mode: S_IFLNK | 0o777, content: Buffer.from(readlinkSync(path), "latin1") });
      else if (stat.isDirectory()) {
        entries.push({ name: entryName, mode: S_IFDIR | (stat.mode & 0o7777) });
        walk(path);
      } else if (stat.isFile()) entries.push({ name: entryName, mode: S_IFREG | (stat.mode & 0o7777), content: readFileSync(path) });
    }
  };
  walk(root);
  return entries;
}

/**
 * A runtime's driver in the VM: the userland at the root and /driver, the
 * script (the argument before --driver) behind "#!<program> [option]", so
 * that init's "/driver --driver" runs "<program> [option] /driver --driver".
 * A #! line passes one argument at most: one option (node's --expose-gc).
 * The program must be the userland's own (a --python tree's interpreter is
 * outside it).
 */
function userlandDriverEntries(driver: DriverProgram, userland: string): CpioEntry[] {
  const program = relative(userland, driver.program);
  if (program.startsWith("..")) throw new Error(`${driver.program} is not in the userland ${userland}: only a release's own program reaches a VM`);
  const options = driver.args.slice(0, -2);
  const [script, last] = driver.args.slice(-2);
  if (script === undefined || last !== "--driver" || options.length > 1 || options.some((option) => !option.startsWith("-") || /\s/.test(option)))
    throw new Error(`a userland driver is "<program> [one option] <script> --driver", not ${[driver.program, ...driver.args].join(" ")}`);
  const source = readFileSync(script, "utf8").replace(/^#![^\n]*\n/, "");
  return [...treeEntries(userland), { name: "driver", mode: S_IFREG | 0o755, content: Buffer.from(`#!/${[program, ...options].join(" ")}\n${source}`, "utf8") }];
}
