/**
 * What the system tier boots: each architecture's Debian kernel, and the
 * qemu-system binary that runs it. Both come from Debian's archive through a
 * private apt configuration under the cache directory, so the machine's
 * /etc/apt, its dpkg database and its foreign architectures are never touched.
 *
 * Cache layout (cacheDirectory()):
 *   kernels/<arch>/kernel        what `qemu -kernel` is given
 *   kernels/<arch>/kernel.json   where it came from (KernelRecord)
 *   kernels/<arch>-virtio-console-<transport>-<version>/   the system benchmark's virtio console modules
 * Each entry is checked against its manifest.json when used (cache-entry.ts).
 *   qemu/<suite>/usr/bin/qemu-system-*, qemu.json   a QEMU from another suite
 *   qemu/<suite>/lib/, bin/qemu-system-*   only where the machine's Debian lacks
 *                                a library it links: copies, and a launcher that finds them
 * What is fetched is pinned in kernels.lock.json (src/kernel-lock.ts):
 * exactly the locked package=version, checked against the lock's sha256, the
 * signed index and the .deb itself. A cache entry of the locked version (or
 * of what replaced it when the archive stopped serving it) is returned
 * without running apt at all. `vforkcheck kernels --update` rewrites the lock.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rename, stat, symlink, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { architectures, type Architecture, type ArchitectureName } from "../../src/architectures.ts";
import { checkLockMatchesRow, formatLock, LockFileError, type KernelLock, type LockedArchitecture, type PinnedPackage, type Substitution } from "../../src/kernel-lock.ts";
import { InstallNeedsPrivilegesError, installDebianPackages } from "./apt.ts";
import { buildAtomically, cacheDirectory, dependencyNames, extractFromDeb, fetchOnce, hostDebianArchitecture, isLockedEntry, lastError, lockedOrServed, megabytes, messageOf, openPrivateApt, readJson, regularFiles, runCommand, sha256Of, type Log, type UnpackedPackage, type PrivateApt, type Stanza } from "./debian-archive.ts";
import { hashEveryFile, recordedFile, usableEntry } from "./cache-entry.ts";
import { findOnPath } from "./required-tools.ts";
import { kernelLock, kernelLockFile } from "./kernel-lock-file.ts";
import { currentQemuUser } from "./qemu-user.ts";
import { bzImagePayload, hasPvhEntryNote } from "../../src/x86-boot-image.ts";

export interface KernelImage {
  architecture: ArchitectureName;
  path: string;
  packageName: string;
  version: string;
  sha256: string;
  suite: string;
  /** Set when the archive no longer served the locked package and set-up used another. */
  substituted?: Substitution;
  /** Of the kernel file itself (what QEMU boots), as extracted and as checked at use; absent for an entry fetched before it was recorded. */
  file?: KernelFile;
  /** true when this call downloaded it */
  downloaded: boolean;
}

export interface KernelFile {
  sha256: string;
  size: number;
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
  file?: KernelFile;
}

/** qemu.json: one entry per package unpacked from the suite. */
export type QemuRecord = UnpackedPackage;


const defaultLog: Log = (line) => process.stderr.write(`vforkcheck kernels: ${line}\n`);


/** This architecture's lock entry, checked against its row in src/architectures.ts. */
function lockedArchitecture(architecture: Architecture): LockedArchitecture {
  const entry = kernelLock.read().architectures[architecture.name];
  if (entry === undefined) throw new LockFileError(`${kernelLockFile()}: no entry for ${architecture.name}; run: npx vforkcheck kernels --update --arch ${architecture.name}`);
  checkLockMatchesRow(architecture.name, entry.kernel, architecture.system.kernel);
  const qemuSuite = architecture.system.qemuSuite;
  if (qemuSuite !== undefined && (entry.qemu?.suite !== qemuSuite || entry.qemu.package !== architecture.system.qemuPackage)) {
    throw new LockFileError(`${kernelLockFile()}: ${architecture.name}: no qemu entry for ${architecture.system.qemuPackage} from ${qemuSuite}; run: npx vforkcheck kernels --update --arch ${architecture.name}`);
  }
  return entry;
}

/** The architecture's kernel, ready for `qemu -kernel`: from the cache, else downloaded and extracted. */
export async function ensureKernel(architecture: Architecture, log: Log = defaultLog): Promise<KernelImage> {
  const kernel = architecture.system.kernel;
  const locked = lockedArchitecture(architecture).kernel;
  const directory = join(cacheDirectory(), "kernels", architecture.name);
  const image = (record: KernelRecord, downloaded: boolean): KernelImage => ({
    architecture: architecture.name,
    path: join(directory, "kernel"),
    packageName: record.packageName,
    version: record.version,
    sha256: record.sha256,
    suite: record.suite,
    ...(record.substituted ? { substituted: record.substituted } : {}),
    ...(record.file ? { file: record.file } : {}),
    downloaded,
  });

  const usable = await usableEntry(directory, `kernel for ${architecture.name}`, hashEveryFile, log);
  const cached = usable ? await readJson<KernelRecord>(join(directory, "kernel.json")) : undefined;
  if (cached !== undefined && existsSync(join(directory, "kernel"))
    && cached.suite === kernel.suite && cached.image === kernel.image && cached.metapackage === kernel.package && isLockedEntry(cached, locked)) {
    // An entry fetched before kernel.json recorded the file: its manifest has it.
    const file = cached.file ?? (await recordedFile(directory, "kernel"));
    return image({ ...cached, ...(file ? { file } : {}) }, false);
  }

  try {
    return image(await fetchOnce(directory, () => fetchKernel(architecture, locked, directory, log)), true);
  } catch (error) {
    throw new Error(`kernel for ${architecture.name} (${kernel.package}, ${kernel.suite}/${kernel.debianArchitecture}): ${messageOf(error)}`, { cause: error });
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
      file: { sha256: await sha256Of(join(output, "kernel")), size: (await stat(join(output, "kernel"))).size },
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
  // Beside the kernel's entry, not in it: an entry is checked against what it held when it was written.
  const directory = join(cacheDirectory(), "kernels", `${architecture.name}-virtio-console-${transport}-${kernel.version}`);
  const inOrder = (names: string[]) => names.map((name) => join(directory, name));
  const usable = await usableEntry(directory, `the virtio console's modules for ${architecture.name}`, hashEveryFile, log);
  const cached = usable ? await readJson<string[]>(join(directory, "modules.json")) : undefined;
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
      throw new Error(`qemu for ${architecture.name}: ${system.qemu} is not on PATH; install ${system.qemuPackage} (npx vforkcheck setup --system)`);
    }
    return path;
  }
  const suite = system.qemuSuite;
  const directory = join(cacheDirectory(), "qemu", suite);
  const binary = join(directory, "usr", "bin", system.qemu);
  // The launcher exists only where libraries had to be carried (ensureSharedLibraries).
  const launcher = join(directory, "bin", system.qemu);
  const runnable = () => (existsSync(launcher) ? launcher : binary);
  const locked = lockedArchitecture(architecture).qemu!;
  const usable = await usableEntry(directory, `qemu for ${architecture.name}`, hashEveryFile, log);
  const cached = usable ? await readJson<QemuRecord[]>(join(directory, "qemu.json")) : undefined;
  if (cached?.some((record) => isLockedEntry(record, locked)) && existsSync(binary)) return runnable();
  try {
    await fetchOnce(directory, () => fetchQemu(suite, log));
  } catch (error) {
    if (error instanceof InstallNeedsPrivilegesError) throw error;
    throw new Error(`qemu for ${architecture.name} (${system.qemuPackage}, ${suite}/${hostDebianArchitecture}): ${messageOf(error)}`, { cause: error });
  }
  if (!existsSync(binary)) throw new Error(`qemu for ${architecture.name}: ${system.qemuPackage} from ${suite} has no ${system.qemu}`);
  return runnable();
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
  const directory = join(cacheDirectory(), "qemu", suite);
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
    for (const stanza of stanzas) fetched.push(...(await ensureSharedLibraries(output, stanza, suite, scratch, log)));
    await writeFile(join(output, "qemu.json"), `${JSON.stringify(fetched, null, 2)}\n`);
  });
  log(`cached QEMU ${packages.join(", ")} from ${suite} in ${directory}`);
}

/** Where Debian puts hostDebianArchitecture's libraries. */
const hostMultiarch = "x86_64-linux-gnu";

/**
 * A backport is built against its base release (bookworm for
 * bookworm-backports), so every library it links is a package of that
 * release. When ldd finds one missing, the machine's apt installs those of
 * the package's library dependencies it knows (a no-op for those already
 * there), rather than carrying copies. A newer Debian renamed some of them
 * with their sonames (trixie: libaio1 -> libaio1t64, libcapstone4 ->
 * libcapstone5, libfuse3-3 -> libfuse3-4), so no package of the machine has
 * the library: those alone are unpacked from the base release into lib/,
 * and bin/<qemu> runs the binary with them on LD_LIBRARY_PATH (the binary
 * stays in usr/bin, beside its qemu-bundle link). Returns what was carried.
 */
async function ensureSharedLibraries(root: string, stanza: Stanza, suite: string, scratch: string, log: Log): Promise<QemuRecord[]> {
  const binaries = (await readdir(join(root, "usr", "bin"))).filter((name) => name.startsWith("qemu-system-"));
  const carried = join(root, "lib");
  const missing = async (libraryPath?: string) => {
    const notFound = new Set<string>();
    for (const name of binaries) {
      const ldd = await runCommand(["env", ...(libraryPath ? [`LD_LIBRARY_PATH=${libraryPath}`] : []), "ldd", join(root, "usr", "bin", name)]);
      for (const match of ldd.stdout.matchAll(/^\s*(\S+) => not found/gm)) notFound.add(match[1]!);
    }
    return [...notFound];
  };
  const before = await missing();
  if (before.length === 0) return [];
  const libraries = dependencyNames(stanza.Depends ?? "").filter((name) => !name.startsWith("qemu-"));
  // apt-cache show succeeds for a package the machine's index has, or one another provides (trixie's t64 libraries).
  const known: string[] = [];
  const unknown: string[] = [];
  for (const name of libraries) ((await runCommand(["apt-cache", "show", "--no-all-versions", name])).status === 0 ? known : unknown).push(name);
  if (known.length > 0) await installDebianPackages(known, `${stanza.Package} ${stanza.Version} needs ${before.join(", ")}`);
  const after = await missing();
  if (after.length === 0) return [];
  if (unknown.length === 0) throw new Error(`${stanza.Package}: ldd: still not found after installing its dependencies: ${after.join(", ")}`);
  const baseSuite = suite.replace(/-backports$/, "");
  const apt = await openPrivateApt(baseSuite, hostDebianArchitecture, log);
  const records: QemuRecord[] = [];
  await mkdir(carried, { recursive: true });
  for (const name of unknown) {
    const library = await apt.show(name);
    const deb = await apt.download(library, scratch);
    const extracted = await mkdtemp(join(scratch, "library-"));
    await extractFromDeb(deb, extracted, [`*/${hostMultiarch}/*.so.*`], name);
    // The files and their soname links, flattened into lib/.
    for (const entry of await readdir(extracted, { recursive: true, withFileTypes: true })) {
      if (entry.isFile() || entry.isSymbolicLink()) await rename(join(entry.parentPath, entry.name), join(carried, entry.name));
    }
    records.push({ packageName: library.Package!, version: library.Version!, sha256: library.SHA256!, suite: baseSuite });
  }
  const still = await missing(carried);
  if (still.length > 0) throw new Error(`${stanza.Package}: ldd: still not found after unpacking ${unknown.join(", ")} from ${baseSuite}: ${still.join(", ")}`);
  await mkdir(join(root, "bin"));
  for (const name of binaries) {
    // Relative to the launcher, since the entry is renamed into place after it is built.
    const script = `#!/bin/sh\n# ${stanza.Package} links libraries this machine's Debian does not ship: copies from ${baseSuite} are in ../lib.\nhere=$(dirname "$0")\nLD_LIBRARY_PATH="$here/../lib" exec "$here/../usr/bin/${name}" "$@"\n`;
    await writeFile(join(root, "bin", name), script, { mode: 0o755 });
  }
  log(`${stanza.Package} ${stanza.Version} links ${after.join(", ")}, which no package of this machine's Debian ships: carried from ${baseSuite}'s ${records.map((record) => `${record.packageName} ${record.version}`).join(", ")}`);
  return records;
}

/**
 * `vforkcheck kernels --update`: for each architecture, what its kernel
 * metapackage resolves to now and the current build of any QEMU set-up
 * downloads itself, from the archive's signed index; written into the lock
 * (the other architectures' entries stay). With `qemuUser`, also the user
 * tier's emulator, which every architecture shares (so `--arch` alone leaves
 * it, unless the lock has none). Downloads no .deb: the next set-up does.
 */
export async function updateKernelLock(of: readonly Architecture[], { qemuUser }: { qemuUser: boolean }, log: Log = defaultLog): Promise<void> {
  const file = kernelLockFile();
  const lock: KernelLock = existsSync(file) ? kernelLock.read() : { architectures: {} };
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
  if (qemuUser || lock.qemuUser === undefined) {
    const before = lock.qemuUser;
    lock.qemuUser = await currentQemuUser(log);
    const unchanged = before?.version === lock.qemuUser.version && before.sha256 === lock.qemuUser.sha256;
    log(`qemu-user: ${unchanged ? `${lock.qemuUser.package} ${lock.qemuUser.version} (unchanged)` : `${before ? `${before.package} ${before.version}` : "none"} -> ${lock.qemuUser.package} ${lock.qemuUser.version}`}`);
  }
  await writeFile(file, formatLock(lock));
  kernelLock.forget();
  log(`wrote ${file}`);
}

/** The records in qemu/<suite>/qemu.json: what the cached QEMU of that suite was unpacked from. */
export async function cachedQemuRecords(suite: string): Promise<QemuRecord[]> {
  return (await readJson<QemuRecord[]>(join(cacheDirectory(), "qemu", suite, "qemu.json"))) ?? [];
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
  if (image === "vmlinuz-pvh") return extractPvhVmlinux(zboot, destination, scratch, packageName, basename(shipped));
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
  const failure = await decompressWithZstd(zboot.subarray(offset, offset + size), "zstd", scratch, destination);
  if (failure) throw new Error(`${packageName}: unzboot: ${failure}`);
}

/** A kernel's compressed payload decompressed to `destination` by zstd, which reads xz too (Debian's is built with liblzma); a failure's line, else undefined. */
async function decompressWithZstd(payload: Buffer, format: "zstd" | "xz", scratch: string, destination: string): Promise<string | undefined> {
  const compressed = join(scratch, `payload.${format}`);
  await writeFile(compressed, payload);
  const zstd = await runCommand(["zstd", "-d", "-q", "-f", `--format=${format}`, compressed, "-o", destination]);
  return zstd.status === 0 ? undefined : `zstd -d --format=${format}: ${lastError(zstd)}`;
}

/** The ELF vmlinux inside an x86 bzImage, for QEMU's PVH boot (src/x86-boot-image.ts says why). */
async function extractPvhVmlinux(bzImage: Buffer, destination: string, scratch: string, packageName: string, name: string): Promise<void> {
  const fail = (what: string) => new Error(`${packageName}: PVH vmlinux from ${name}: ${what}`);
  const payload = bzImagePayload(bzImage);
  if ("error" in payload) throw fail(payload.error);
  const failure = await decompressWithZstd(bzImage.subarray(payload.start, payload.start + payload.length), "xz", scratch, destination);
  if (failure) throw fail(failure);
  const size = (await stat(destination)).size;
  if (size !== payload.decompressedSize) throw fail(`decompressed to ${size} bytes, but the bzImage says ${payload.decompressedSize}`);
  if (!hasPvhEntryNote(await readFile(destination))) throw fail("no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY): the kernel was built without CONFIG_PVH; give the row image vmlinuz in src/architectures.ts");
}
