/**
 * What the system tier boots: each architecture's Debian kernel, and the
 * qemu-system binary that runs it. Both come from Debian's archive through a
 * private apt configuration under the cache directory, so the machine's
 * /etc/apt, its dpkg database and its foreign architectures are never touched.
 *
 * Cache layout (kernelCacheDirectory()):
 *   kernels/<arch>/kernel        what `qemu -kernel` is given
 *   kernels/<arch>/kernel.json   where it came from (KernelRecord)
 *   qemu/<suite>/usr/bin/qemu-system-*, qemu.json   a QEMU from another suite
 *   apt/<suite>-<debianArch>/    the private apt state (lists, sources.list)
 * What is fetched is pinned in kernels.lock.json (src/kernel-lock.ts):
 * exactly the locked package=version, checked against the lock's sha256, the
 * signed index and the .deb itself. A cache entry of the locked version (or
 * of what replaced it when the archive stopped serving it) is returned
 * without running apt at all. `vforkcheck kernels --update` rewrites the lock.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, symlink, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, join } from "node:path";
import { architectures, type Architecture, type ArchitectureName } from "../../src/architectures.ts";
import { checkLockMatchesRow, findLockedVersion, formatLock, LockFileError, parseLock, substitution, type KernelLock, type LockedArchitecture, type PinnedPackage, type Substitution } from "../../src/kernel-lock.ts";
import { InstallNeedsPrivilegesError, installDebianPackages } from "./apt.ts";
import { projectRoot } from "../process/project-root.ts";
import { isRunning } from "../process/process-tree.ts";
import { findOnPath } from "./required-tools.ts";

export interface KernelImage {
  architecture: ArchitectureName;
  path: string;
  packageName: string;
  version: string;
  sha256: string;
  suite: string;
  /** Set when the archive no longer served the locked package and set-up used another. */
  substituted?: Substitution;
  /** true when this call downloaded it */
  downloaded: boolean;
}

/** kernel.json: the package the kernel file was extracted from, and what it was asked for. */
interface KernelRecord {
  packageName: string;
  version: string;
  /** Of the .deb, as the archive's index states and as measured. */
  sha256: string;
  suite: string;
  image: Architecture["system"]["kernel"]["image"];
  /** The metapackage that was resolved (the row's kernel.package). */
  metapackage: string;
  substituted?: Substitution;
}

/** qemu.json: one entry per package unpacked from the suite. */
export interface QemuRecord {
  packageName: string;
  version: string;
  sha256: string;
  suite: string;
  substituted?: Substitution;
}

type Log = (line: string) => void;

const defaultLog: Log = (line) => process.stderr.write(`vforkcheck kernels: ${line}\n`);

/** Debian's name of this machine's architecture: the QEMU binaries run here. */
const hostDebianArchitecture = "amd64";
/**
 * The Debian archive to fetch from: $VFORKCHECK_DEBIAN_MIRROR, else the
 * mirror this machine's own apt sources use for Debian (a CI machine may
 * reach Debian only through it), else deb.debian.org.
 */
function archiveUrl(): string {
  if (process.env.VFORKCHECK_DEBIAN_MIRROR) return process.env.VFORKCHECK_DEBIAN_MIRROR;
  for (const file of ["/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"]) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    // deb822 "URIs: <url>" or one-line "deb [options] <url> <suite> ..."; the archive, not debian-security.
    const uri = /^URIs:\s*(\S+\/debian)\/?\s*$/m.exec(text) ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\/?\s+\S+/m.exec(text);
    if (uri) return uri[1]!;
  }
  return "http://deb.debian.org/debian";
}
// Every suite used here (bookworm, bookworm-backports, trixie, forky) is signed
// by at least one key in bookworm's debian-archive-keyring; apt accepts a
// Release file when one of its signatures verifies. (Forky's InRelease carries
// the 12/bookworm and 13/trixie archive keys' signatures. A suite signed only by
// keys newer than these would need a newer debian-archive-keyring's file here.)
const archiveKeyring = "/usr/share/keyrings/debian-archive-keyring.gpg";

/** $VFORKCHECK_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/vforkcheck. */
export function kernelCacheDirectory(): string {
  const explicit = process.env.VFORKCHECK_CACHE;
  if (explicit) return explicit;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "vforkcheck");
}

/** $VFORKCHECK_KERNELS_LOCK, else kernels.lock.json at the project's root. */
export function kernelLockFile(): string {
  return process.env.VFORKCHECK_KERNELS_LOCK || join(projectRoot, "kernels.lock.json");
}

let lockRead: { file: string; lock: KernelLock } | undefined;

/** The lock, read once per process (per file). */
function readKernelLock(): KernelLock {
  const file = kernelLockFile();
  if (lockRead?.file !== file) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw new LockFileError(`${file}: ${messageOf(error)}; run: npx vforkcheck kernels --update`);
    }
    lockRead = { file, lock: parseLock(text, file) };
  }
  return lockRead.lock;
}

/** This architecture's lock entry, checked against its row in src/architectures.ts. */
function lockedArchitecture(architecture: Architecture): LockedArchitecture {
  const entry = readKernelLock().architectures[architecture.name];
  if (entry === undefined) throw new LockFileError(`${kernelLockFile()}: no entry for ${architecture.name}; run: npx vforkcheck kernels --update --arch ${architecture.name}`);
  checkLockMatchesRow(architecture.name, entry.kernel, architecture.system.kernel);
  const qemuSuite = architecture.system.qemuSuite;
  if (qemuSuite !== undefined && (entry.qemu?.suite !== qemuSuite || entry.qemu.package !== architecture.system.qemuPackage)) {
    throw new LockFileError(`${kernelLockFile()}: ${architecture.name}: no qemu entry for ${architecture.system.qemuPackage} from ${qemuSuite}; run: npx vforkcheck kernels --update --arch ${architecture.name}`);
  }
  return entry;
}

/** A cache entry is the locked package: that version, or what set-up used when the archive no longer served it. */
function isLockedEntry(record: { packageName: string; version: string; sha256: string; substituted?: Substitution }, locked: PinnedPackage): boolean {
  if (record.substituted) return record.substituted.locked.package === locked.package && record.substituted.locked.version === locked.version;
  return record.packageName === locked.package && record.version === locked.version && record.sha256 === locked.sha256;
}

/** The architecture's kernel, ready for `qemu -kernel`: from the cache, else downloaded and extracted. */
export async function ensureKernel(architecture: Architecture, log: Log = defaultLog): Promise<KernelImage> {
  const kernel = architecture.system.kernel;
  const locked = lockedArchitecture(architecture).kernel;
  const directory = join(kernelCacheDirectory(), "kernels", architecture.name);
  const image = (record: KernelRecord, downloaded: boolean): KernelImage => ({
    architecture: architecture.name,
    path: join(directory, "kernel"),
    packageName: record.packageName,
    version: record.version,
    sha256: record.sha256,
    suite: record.suite,
    ...(record.substituted ? { substituted: record.substituted } : {}),
    downloaded,
  });

  const cached = await readJson<KernelRecord>(join(directory, "kernel.json"));
  if (cached !== undefined && existsSync(join(directory, "kernel"))
    && cached.suite === kernel.suite && cached.image === kernel.image && cached.metapackage === kernel.package && isLockedEntry(cached, locked)) {
    return image(cached, false);
  }

  try {
    return image(await fetchOnce(directory, () => fetchKernel(architecture, locked, directory, log)), true);
  } catch (error) {
    throw new Error(`kernel for ${architecture.name} (${kernel.package}, ${kernel.suite}/${kernel.debianArchitecture}): ${messageOf(error)}`);
  }
}

async function fetchKernel(architecture: Architecture, locked: PinnedPackage, directory: string, log: Log): Promise<KernelRecord> {
  const kernel = architecture.system.kernel;
  const apt = await openPrivateApt(kernel.suite, kernel.debianArchitecture, log);
  const { stanza, substituted } = await lockedOrServed(apt, architecture.name, locked, () => resolveKernelPackage(apt, kernel.package), log);
  const record = await buildAtomically(directory, async (scratch, output) => {
    const deb = await apt.download(stanza, scratch);
    const extracted = join(scratch, "extracted");
    await mkdir(extracted);
    // The kernel is ./boot/vmlinu[xz]-<version> in bookworm and trixie and
    // ./usr/lib/modules/<version>/vmlinuz in forky. With --wildcards, * also matches /.
    await extractFromDeb(deb, extracted, ["*/vmlinu[xz]*"], stanza.Package!);
    const found = await regularFiles(extracted);
    if (found.length !== 1) throw new Error(`${stanza.Package}: extract: expected one vmlinux/vmlinuz file, found ${found.length}`);
    await prepareKernelFile(found[0]!, kernel.image, join(output, "kernel"), scratch, stanza.Package!);
    const record: KernelRecord = {
      packageName: stanza.Package!, version: stanza.Version!, sha256: stanza.SHA256!,
      suite: kernel.suite, image: kernel.image, metapackage: kernel.package,
      ...(substituted ? { substituted } : {}),
    };
    await writeFile(join(output, "kernel.json"), `${JSON.stringify(record, null, 2)}\n`);
    return record;
  });
  const size = (await stat(join(directory, "kernel"))).size;
  log(`${architecture.name}: cached ${record.packageName} ${record.version} as ${join(directory, "kernel")} (${megabytes(size)})`);
  return record;
}

/**
 * For the system benchmark's virtio-console column only: the kernel modules
 * a virtio console needs on this kernel (virtio_console and `transport`, the
 * module of the machine's virtio-serial bus, with their dependencies), in
 * load order and decompressed; what the kernel has built in is left out.
 * From the kernel's own package, cached beside the kernel by its version.
 */
export async function ensureVirtioConsoleModules(architecture: Architecture, kernel: KernelImage, transport: string, log: Log = defaultLog): Promise<string[]> {
  const directory = join(kernelCacheDirectory(), "kernels", architecture.name, `virtio-console-${transport}-${kernel.version}`);
  const inOrder = (names: string[]) => names.map((name) => join(directory, name));
  const cached = await readJson<string[]>(join(directory, "modules.json"));
  if (cached !== undefined) return inOrder(cached);
  return inOrder(await fetchOnce(directory, async () => {
    const apt = await openPrivateApt(kernel.suite, architecture.system.kernel.debianArchitecture, log);
    // The modules are in the kernel's package, or (forky) in linux-modules-<its ABI>.
    const modulesPackage = kernel.packageName.replace(/^linux-(binary|image)-/, "linux-modules-");
    const sameVersion = async (name: string) => (await apt.served(name)).find((served) => served.Version === kernel.version);
    const stanza = (await sameVersion(modulesPackage)) ?? (await sameVersion(kernel.packageName));
    if (stanza === undefined) throw new Error(`${kernel.packageName} ${kernel.version}: no longer served by ${kernel.suite}: its modules cannot be fetched`);
    return buildAtomically(directory, async (scratch, output) => {
      const deb = await apt.download(stanza, scratch);
      const extracted = join(scratch, "extracted");
      await mkdir(extracted);
      // modules.dep is depmod's, made at install: each module's own "depends=" (its .modinfo) says what it needs.
      // forky ships modules.builtin in another package: there a module without a file counts as built in (a wrong guess shows as no /dev/hvc0).
      await extractFromDeb(deb, extracted, ["*/modules.builtin"], stanza.Package!).catch(() => { /* not in this package */ });
      await extractFromDeb(deb, extracted, ["*virtio*.ko*"], stanza.Package!).catch(() => { /* none: all built in */ });
      const listed = await regularFiles(extracted);
      const builtinFile = listed.find((file) => file.endsWith("/modules.builtin"));
      const moduleName = (path: string) => basename(path).replace(/\.ko(\.xz|\.zst|\.gz)?$/, "").replace(/-/g, "_");
      const moduleFilesFound = listed.filter((file) => /\.ko(\.xz|\.zst|\.gz)?$/.test(file)).map(moduleName);
      const builtIn = new Set(builtinFile !== undefined
        ? (await readFile(builtinFile, "utf8")).split("\n").filter(Boolean).map(moduleName)
        : ["virtio", "virtio_ring", "virtio_mmio", "virtio_pci", "virtio_console", "virtio_pci_modern_dev", "virtio_pci_legacy_dev"].filter((name) => !moduleFilesFound.includes(name)));
      const moduleFiles = new Map(listed.filter((file) => /\.ko(\.xz|\.zst|\.gz)?$/.test(file)).map((file) => [moduleName(file), file]));
      const plain = new Map<string, Buffer>();
      const decompressed = async (name: string): Promise<Buffer> => {
        const file = moduleFiles.get(name)!;
        const tool = /\.xz$/.test(file) ? ["xz", "-dc"] : /\.zst$/.test(file) ? ["zstd", "-dcq"] : /\.gz$/.test(file) ? ["gzip", "-dc"] : undefined;
        if (tool === undefined) return readFile(file);
        const target = join(scratch, `${name}.ko`);
        const result = await runCommand(["sh", "-c", `${tool.join(" ")} "$0" > "$1"`, file, target]);
        if (result.status !== 0) throw new Error(`${kernel.packageName}: ${tool[0]} ${basename(file)}: ${lastError(result)}`);
        return readFile(target);
      };
      const order: string[] = [];
      const visit = async (name: string): Promise<void> => {
        if (builtIn.has(name) || order.includes(name)) return;
        if (!moduleFiles.has(name)) throw new Error(`${kernel.packageName}: module ${name} is neither built in nor among its virtio modules (${[...moduleFiles.keys()].join(", ") || "none"}; built in: ${[...builtIn].filter((module) => module.includes("virtio")).join(", ") || "none"})`);
        const content = await decompressed(name);
        plain.set(name, content);
        const depends = /\0depends=([^\0]*)\0/.exec(content.toString("latin1"))?.[1] ?? "";
        for (const needed of depends.split(",").filter(Boolean)) await visit(needed.replace(/-/g, "_"));
        order.push(name);
      };
      await visit(transport);
      await visit("virtio_console");
      const names: string[] = [];
      for (const [index, name] of order.entries()) {
        const file = `${String(index).padStart(2, "0")}-${name}.ko`;
        await writeFile(join(output, file), plain.get(name)!);
        names.push(file);
      }
      await writeFile(join(output, "modules.json"), `${JSON.stringify(names)}\n`);
      log(`${architecture.name}: cached the virtio console's modules of ${kernel.packageName}: ${order.join(", ") || "all built in"}`);
      return names;
    });
  }));
}

/**
 * The qemu-system binary this architecture runs on: the machine's (installed
 * by setup from system.qemuPackage), or, when system.qemuSuite is set, the
 * amd64 package of that suite unpacked into the cache next to the machine's
 * own QEMU, which stays as it is.
 */
export async function ensureQemuSystem(architecture: Architecture, log: Log = defaultLog): Promise<string> {
  const system = architecture.system;
  if (system.qemuSuite === undefined) {
    const path = findOnPath(system.qemu);
    if (path === undefined) {
      throw new Error(`qemu for ${architecture.name}: ${system.qemu} is not on PATH; install ${system.qemuPackage} (node --import=tsx harness/cli/setup.ts --system)`);
    }
    return path;
  }
  const suite = system.qemuSuite;
  const directory = join(kernelCacheDirectory(), "qemu", suite);
  const binary = join(directory, "usr", "bin", system.qemu);
  const locked = lockedArchitecture(architecture).qemu!;
  const cached = await readJson<QemuRecord[]>(join(directory, "qemu.json"));
  if (cached?.some((record) => isLockedEntry(record, locked)) && existsSync(binary)) return binary;
  try {
    await fetchOnce(directory, () => fetchQemu(suite, log));
  } catch (error) {
    if (error instanceof InstallNeedsPrivilegesError) throw error;
    throw new Error(`qemu for ${architecture.name} (${system.qemuPackage}, ${suite}/${hostDebianArchitecture}): ${messageOf(error)}`);
  }
  if (!existsSync(binary)) throw new Error(`qemu for ${architecture.name}: ${system.qemuPackage} from ${suite} has no ${system.qemu}`);
  return binary;
}

/**
 * Unpacks, into qemu/<suite>/, the binaries of every row that takes its QEMU
 * from this suite. Only the binaries: with no firmware (-kernel), QEMU needs
 * nothing of qemu-system-common (helpers, optional modules) or
 * qemu-system-data (firmware, keymaps); the VMs run with -nic none, so no NIC ROM.
 */
async function fetchQemu(suite: string, log: Log): Promise<void> {
  const rows = architectures.filter((architecture) => architecture.system.qemuSuite === suite);
  const packages = [...new Set(rows.map((row) => row.system.qemuPackage))];
  const directory = join(kernelCacheDirectory(), "qemu", suite);
  const apt = await openPrivateApt(suite, hostDebianArchitecture, log);
  await buildAtomically(directory, async (scratch, output) => {
    const fetched: QemuRecord[] = [];
    const stanzas: Stanza[] = [];
    for (const name of packages) {
      const row = rows.find((candidate) => candidate.system.qemuPackage === name)!;
      const { stanza, substituted } = await lockedOrServed(apt, row.name, lockedArchitecture(row).qemu!, () => apt.show(name), log);
      const deb = await apt.download(stanza, scratch);
      const binaries = rows.filter((row) => row.system.qemuPackage === name).map((row) => `./usr/bin/${row.system.qemu}`);
      await extractFromDeb(deb, output, binaries, name);
      stanzas.push(stanza);
      fetched.push({ packageName: stanza.Package!, version: stanza.Version!, sha256: stanza.SHA256!, suite, ...(substituted ? { substituted } : {}) });
    }
    // QEMU (>= 7.1) looks for <directory of the binary>/qemu-bundle and, when
    // it exists, prefixes it to its data, firmware and module directories. This
    // link makes this QEMU use its own (absent) modules instead of trying the
    // machine's QEMU 7.2 modules, which it would reject with warnings.
    await symlink("../..", join(output, "usr", "bin", "qemu-bundle"));
    for (const stanza of stanzas) await ensureSharedLibraries(output, stanza);
    await writeFile(join(output, "qemu.json"), `${JSON.stringify(fetched, null, 2)}\n`);
  });
  log(`cached QEMU ${packages.join(", ")} from ${suite} in ${directory}`);
}

/**
 * A backport is built against the stable release, so every library it links
 * is a package of this machine's Debian: when ldd finds one missing, install
 * the package's library dependencies with the machine's apt (a no-op for
 * those already there), rather than carrying copies and LD_LIBRARY_PATH.
 */
async function ensureSharedLibraries(root: string, stanza: Stanza): Promise<void> {
  const binaries = (await readdir(join(root, "usr", "bin"))).filter((name) => name.startsWith("qemu-system-"));
  const missing = async () => {
    const notFound = new Set<string>();
    for (const name of binaries) {
      const ldd = await runCommand(["ldd", join(root, "usr", "bin", name)]);
      for (const match of ldd.stdout.matchAll(/^\s*(\S+) => not found/gm)) notFound.add(match[1]!);
    }
    return [...notFound];
  };
  const before = await missing();
  if (before.length === 0) return;
  const libraries = dependencyNames(stanza.Depends ?? "").filter((name) => !name.startsWith("qemu-"));
  await installDebianPackages(libraries, `${stanza.Package} ${stanza.Version} needs ${before.join(", ")}`);
  const after = await missing();
  if (after.length > 0) throw new Error(`${stanza.Package}: ldd: still not found after installing its dependencies: ${after.join(", ")}`);
}

/** One package's record in the archive's index (apt-cache show): field name to value. */
type Stanza = Record<string, string>;

interface PrivateApt {
  /** The record of the version apt would install. */
  show(packageName: string): Promise<Stanza>;
  /** The records of every version the index serves under this name; none when it serves no such package. */
  served(packageName: string): Promise<Stanza[]>;
  /** Downloads the record's .deb into `directory`, checks its SHA256 and returns its path. */
  download(stanza: Stanza, directory: string): Promise<string>;
}

/**
 * apt pointed at one suite and architecture of the archive, with its lists,
 * status and sources in apt/<suite>-<debianArch>/. Only Dir::State,
 * Dir::Cache and the source lists are redirected: the machine's apt.conf.d
 * (proxies) still applies. Updates the lists before returning.
 */
async function openPrivateApt(suite: string, debianArchitecture: string, log: Log): Promise<PrivateApt> {
  const directory = join(kernelCacheDirectory(), "apt", `${suite}-${debianArchitecture}`);
  await mkdir(join(directory, "lists", "partial"), { recursive: true });
  await mkdir(join(directory, "cache"), { recursive: true });
  await mkdir(join(directory, "sources.list.d"), { recursive: true });
  await writeFile(join(directory, "sources.list"), `deb [arch=${debianArchitecture} signed-by=${archiveKeyring}] ${archiveUrl()} ${suite} main\n`);
  if (!existsSync(join(directory, "status"))) await writeFile(join(directory, "status"), "");
  const options = [
    "-o", `Dir::State=${directory}`,
    "-o", `Dir::State::Lists=${join(directory, "lists")}`,
    "-o", `Dir::State::status=${join(directory, "status")}`,
    "-o", `Dir::Cache=${join(directory, "cache")}`,
    "-o", `Dir::Etc::SourceList=${join(directory, "sources.list")}`,
    "-o", `Dir::Etc::SourceParts=${join(directory, "sources.list.d")}`,
    "-o", `APT::Architecture=${hostDebianArchitecture}`,
    "-o", `APT::Architectures::=${debianArchitecture}`,
    "-o", "Acquire::Languages=none",
    // As root apt downloads as the user _apt, who cannot write into root's home.
    ...(process.getuid?.() === 0 ? ["-o", "APT::Sandbox::User=root"] : []),
  ];

  log(`updating the package lists of ${suite}/${debianArchitecture} in ${directory}`);
  // A foreign architecture's lists can fail for a while ("File has unexpected
  // size ... Mirror sync in progress?"): retry.
  const attempts = 3;
  for (let attempt = 1; ; attempt += 1) {
    const update = await runCommand(["apt-get", "-q", ...options, "update"]);
    if (update.status === 0) break;
    if (attempt === attempts) throw new Error(`apt-get update of ${suite}/${debianArchitecture} failed ${attempts} times: ${lastError(update)}`);
    log(`apt-get update of ${suite}/${debianArchitecture} failed (${lastError(update)}); retrying in 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 5000));
  }

  return {
    async show(packageName) {
      // --no-all-versions: only the candidate, which with nothing installed
      // and a single source is the highest version in the index.
      const show = await runCommand(["apt-cache", ...options, "show", "--no-all-versions", `${packageName}:${debianArchitecture}`]);
      if (show.status !== 0) throw new Error(`${packageName}: apt-cache show: ${lastError(show)}`);
      const stanza = parseStanza(show.stdout);
      for (const field of ["Package", "Version", "SHA256", "Size"]) {
        if (stanza[field] === undefined) throw new Error(`${packageName}: apt-cache show: no ${field} field`);
      }
      return stanza;
    },
    async served(packageName) {
      const show = await runCommand(["apt-cache", ...options, "show", "--all-versions", `${packageName}:${debianArchitecture}`]);
      if (show.status !== 0 && /No packages found|Unable to locate/.test(`${show.stdout}${show.stderr}`)) return [];
      if (show.status !== 0) throw new Error(`${packageName}: apt-cache show: ${lastError(show)}`);
      return parseStanzas(show.stdout).filter((stanza) => stanza.Version !== undefined && stanza.SHA256 !== undefined);
    },
    async download(stanza, into) {
      const name = stanza.Package!;
      log(`downloading ${name} ${stanza.Version} (${suite}/${debianArchitecture}, ${megabytes(Number(stanza.Size))})`);
      const debDirectory = await mkdtemp(join(into, "deb-"));
      const download = await runCommand(["apt-get", "-q", ...options, "download", `${name}:${debianArchitecture}=${stanza.Version}`], debDirectory);
      if (download.status !== 0) throw new Error(`${name}: apt-get download: ${lastError(download)}`);
      const debs = (await readdir(debDirectory)).filter((file) => file.endsWith(".deb"));
      if (debs.length !== 1) throw new Error(`${name}: apt-get download: expected one .deb, found ${debs.length}`);
      const deb = join(debDirectory, debs[0]!);
      const sha256 = await sha256Of(deb);
      if (sha256 !== stanza.SHA256) throw new Error(`${name}: sha256 of ${basename(deb)} is ${sha256}, the index says ${stanza.SHA256}`);
      return deb;
    },
  };
}

/**
 * The locked package's record when the index still serves it; else the
 * archive's current one (`current`), announced by one line and recorded as
 * a substitution.
 */
async function lockedOrServed(apt: PrivateApt, architecture: string, locked: PinnedPackage, current: () => Promise<Stanza>, log: Log): Promise<{ stanza: Stanza; substituted?: Substitution }> {
  const served = await apt.served(locked.package);
  const stanza = findLockedVersion(locked, served.map((record) => ({ record, version: record.Version!, sha256: record.SHA256! })))?.record;
  if (stanza !== undefined) return { stanza };
  const used = await current();
  const { substituted, line } = substitution(architecture, locked, { package: used.Package!, version: used.Version! });
  log(line);
  return { stanza: used, substituted };
}

/**
 * `vforkcheck kernels --update`: for each architecture, what its kernel
 * metapackage resolves to now and the current build of any QEMU set-up
 * downloads itself, from the archive's signed index; written into the lock
 * (the other architectures' entries stay). Downloads no .deb: the next set-up does.
 */
export async function updateKernelLock(of: readonly Architecture[], log: Log = defaultLog): Promise<void> {
  const file = kernelLockFile();
  const lock: KernelLock = existsSync(file) ? readKernelLock() : { architectures: {} };
  const pin = (stanza: Stanza, suite: string): PinnedPackage => ({ package: stanza.Package!, version: stanza.Version!, suite, sha256: stanza.SHA256! });
  for (const architecture of of) {
    const { kernel, qemuSuite, qemuPackage } = architecture.system;
    const apt = await openPrivateApt(kernel.suite, kernel.debianArchitecture, log);
    const entry: LockedArchitecture = { kernel: { ...pin(await resolveKernelPackage(apt, kernel.package), kernel.suite), metapackage: kernel.package } };
    if (qemuSuite !== undefined) entry.qemu = pin(await (await openPrivateApt(qemuSuite, hostDebianArchitecture, log)).show(qemuPackage), qemuSuite);
    const before = lock.architectures[architecture.name];
    const describe = (p: PinnedPackage | undefined) => (p ? `${p.package} ${p.version}` : "none");
    const change = (was: PinnedPackage | undefined, now: PinnedPackage) => (was && describe(was) === describe(now) && was.sha256 === now.sha256 ? `${describe(now)} (unchanged)` : `${describe(was)} -> ${describe(now)}`);
    log(`${architecture.name}: kernel ${change(before?.kernel, entry.kernel)}${entry.qemu ? `; qemu ${change(before?.qemu, entry.qemu)}` : ""}`);
    lock.architectures[architecture.name] = entry;
  }
  await writeFile(file, formatLock(lock));
  lockRead = undefined;
  log(`wrote ${file}`);
}

/** The records in qemu/<suite>/qemu.json: what the cached QEMU of that suite was unpacked from. */
export async function cachedQemuRecords(suite: string): Promise<QemuRecord[]> {
  return (await readJson<QemuRecord[]>(join(kernelCacheDirectory(), "qemu", suite, "qemu.json"))) ?? [];
}

/**
 * The package that holds the kernel file, from the metapackage: follow
 * Depends through linux-image-* and linux-binary-* packages until none is
 * left. bookworm: linux-image-arm64 -> linux-image-6.1.0-N-arm64. forky
 * splits the image: linux-image-loong64 -> linux-image-<v>-loong64 (empty)
 * -> linux-binary-<v>-loong64 (the kernel; modules are a separate package).
 */
async function resolveKernelPackage(apt: PrivateApt, metapackage: string): Promise<Stanza> {
  let stanza = await apt.show(metapackage);
  for (let depth = 0; depth < 5; depth += 1) {
    const kernels = dependencyNames(stanza.Depends ?? "");
    const next = kernels.find((name) => name.startsWith("linux-binary-")) ?? kernels.find((name) => name.startsWith("linux-image-"));
    if (next === undefined) return stanza;
    stanza = await apt.show(next);
  }
  throw new Error(`${metapackage}: apt-cache show: linux-image-* dependencies nest too deep`);
}

/** Writes to `destination` what qemu's -kernel takes, from the file the package ships. */
async function prepareKernelFile(shipped: string, image: KernelRecord["image"], destination: string, scratch: string, packageName: string): Promise<void> {
  // Checked by content, not by name: riscv64's boot image (an "Image", the
  // row's "vmlinuz" as shipped) is called vmlinux-* in trixie.
  const zboot = await readFile(shipped);
  if (image === "vmlinux" && zboot.toString("latin1", 0, 4) !== "\x7fELF") {
    throw new Error(`${packageName}: extract: ${basename(shipped)} is not an ELF file`);
  }
  if (image !== "vmlinuz-efi-zboot") {
    await rename(shipped, destination);
    return;
  }
  // An EFI zboot image is a PE file whose payload is the compressed kernel;
  // QEMU's direct boot needs that payload, decompressed. Header (Linux's
  // drivers/firmware/efi/libstub/zboot-header.S): "zimg" at 4, payload
  // offset (u32 LE) at 8, payload size at 12, compression name at 24.
  if (zboot.toString("latin1", 4, 8) !== "zimg") throw new Error(`${packageName}: unzboot: ${basename(shipped)} has no zimg header`);
  const offset = zboot.readUInt32LE(8);
  const size = zboot.readUInt32LE(12);
  const compression = zboot.toString("latin1", 24, 56).replace(/\0.*$/s, "");
  if (compression !== "zstd") throw new Error(`${packageName}: unzboot: payload compressed with "${compression}", only zstd is handled`);
  if (offset + size > zboot.length) throw new Error(`${packageName}: unzboot: payload runs past the end of the file`);
  const payload = join(scratch, "payload.zst");
  await writeFile(payload, zboot.subarray(offset, offset + size));
  const zstd = await runCommand(["zstd", "-d", "-q", "-f", payload, "-o", destination]);
  if (zstd.status !== 0) throw new Error(`${packageName}: unzboot: zstd -d: ${lastError(zstd)}`);
}

const inFlight = new Map<string, Promise<unknown>>();

/** Runs `fetch` for a cache directory once at a time in this process: concurrent callers share it. */
function fetchOnce<T>(directory: string, fetch: () => Promise<T>): Promise<T> {
  let pending = inFlight.get(directory) as Promise<T> | undefined;
  if (pending === undefined) {
    pending = fetch().finally(() => inFlight.delete(directory));
    inFlight.set(directory, pending);
  }
  return pending;
}

/**
 * Builds a cache entry in a scratch directory beside `directory` and renames
 * it into place only once complete, so a killed run leaves no half entry,
 * only a scratch directory .tmp-<name>-<pid>-*, which a later run removes
 * once that process is gone.
 */
async function buildAtomically<T>(directory: string, build: (scratch: string, output: string) => Promise<T>): Promise<T> {
  const parent = join(directory, "..");
  const prefix = `.tmp-${basename(directory)}-`;
  await mkdir(parent, { recursive: true });
  for (const name of await readdir(parent)) {
    const pid = name.startsWith(prefix) ? Number(name.slice(prefix.length).split("-")[0]) : NaN;
    if (Number.isInteger(pid) && !isRunning(pid)) await rm(join(parent, name), { recursive: true, force: true });
  }
  const scratch = await mkdtemp(join(parent, `${prefix}${process.pid}-`));
  try {
    const output = join(scratch, "output");
    await mkdir(output);
    const result = await build(scratch, output);
    await rm(directory, { recursive: true, force: true });
    try {
      await rename(output, directory);
    } catch (error) {
      // Another process put the same entry in place meanwhile: keep theirs.
      if ((error as NodeJS.ErrnoException).code !== "ENOTEMPTY" && (error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    return result;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** `dpkg-deb --fsys-tarfile deb | tar -x --wildcards patterns`, into `directory`. */
function extractFromDeb(deb: string, directory: string, patterns: readonly string[], packageName: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const dpkg = spawn("dpkg-deb", ["--fsys-tarfile", deb], { stdio: ["ignore", "pipe", "pipe"] });
    const tar = spawn("tar", ["-x", "-C", directory, "--wildcards", ...patterns], { stdio: ["pipe", "ignore", "pipe"] });
    // Piped through node: handing dpkg.stdout to tar as its stdin leaves node's
    // copy of the pipe open, and dpkg's "close" never comes.
    dpkg.stdout.pipe(tar.stdin);
    tar.stdin.on("error", () => { /* tar stopped reading: its status says why */ });
    let errors = "";
    dpkg.stderr.on("data", (chunk) => { errors += chunk; });
    tar.stderr.on("data", (chunk) => { errors += chunk; });
    const statuses: Promise<number>[] = [dpkg, tar].map((child) => new Promise((done, failed) => {
      child.on("error", failed);
      child.on("close", (code) => done(code ?? 1));
    }));
    Promise.all(statuses).then(([dpkgStatus, tarStatus]) => {
      if (dpkgStatus === 0 && tarStatus === 0) resolve();
      else reject(new Error(`${packageName}: extract ${patterns.join(" ")}: ${errors.trim().split("\n").at(-1) ?? `status ${dpkgStatus}/${tarStatus}`}`));
    }, reject);
  });
}

interface CommandResult { status: number; stdout: string; stderr: string }

function runCommand(argv: readonly string[], cwd?: string): Promise<CommandResult> {
  const [command, ...args] = argv as [string, ...string[]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => { stdout += chunk; });
    child.stderr.on("data", (chunk) => { stderr += chunk; });
    child.on("error", (error) => reject(new Error(`${command}: ${error.message}`)));
    child.on("close", (code) => resolve({ status: code ?? 1, stdout, stderr }));
  });
}

/** apt's "E: ..." line when there is one, else the last line it wrote. */
function lastError(result: CommandResult): string {
  const lines = `${result.stdout}\n${result.stderr}`.split("\n").map((line) => line.trim()).filter((line) => line !== "");
  return [...lines].reverse().find((line) => line.startsWith("E:")) ?? lines.at(-1) ?? `status ${result.status}`;
}

/** Every stanza of apt-cache show's output, split at blank lines. */
function parseStanzas(text: string): Stanza[] {
  return text.split(/\n\s*\n/).filter((block) => block.trim() !== "").map(parseStanza);
}

/** The first stanza of apt-cache show's output; continuation lines are appended to their field. */
function parseStanza(text: string): Stanza {
  const stanza: Stanza = {};
  let field: string | undefined;
  for (const line of text.split("\n")) {
    if (line === "") {
      if (field !== undefined) break;
      continue;
    }
    if (/^\s/.test(line)) {
      if (field !== undefined) stanza[field] += `\n${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    field = line.slice(0, colon);
    stanza[field] = line.slice(colon + 1).trim();
  }
  return stanza;
}

/** Package names of a Depends field: the first of each alternative, without versions or :arch. */
function dependencyNames(depends: string): string[] {
  return depends.split(",").map((dependency) => dependency.split("|")[0]!.trim().split(/[\s(:]/)[0]!).filter((name) => name !== "");
}

async function regularFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

function sha256Of(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path).on("data", (chunk) => hash.update(chunk)).on("error", reject).on("end", () => resolve(hash.digest("hex")));
  });
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as T;
  } catch {
    return undefined;
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
