/**
 * Debian's package registry, read through a private apt configuration
 * under the cache directory, so the machine's /etc/apt, its dpkg database
 * and its foreign architectures are never touched. What the kernels
 * (kernels.ts) and the runtime releases (runtime-releases.ts) fetch goes
 * through here: the signed index, a checked download, an extraction, and a
 * cache entry renamed into place only once complete.
 *
 * Cache layout (cacheDirectory()):
 *   apt/<suite>-<debianArch>/    the private apt state (lists, sources.list)
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, dirname, join } from "node:path";
import { findLockedVersion, LockFileError, substitution, type PinnedPackage, type Substitution } from "../../src/kernel-lock.ts";
import { parseSimulatedInstall, type SimulatedInstall } from "../../src/apt-simulation.ts";
import { spawnDyingWithHarness } from "../process/dies-with-harness.ts";
import { aptFault, aptRetrySeconds, aptUpdateAgain, outOfSpace } from "./apt-faults.ts";
import { hashEveryFile, manifestName, temporaryOwnerTag, temporaryPrefix, writeManifest, type HashedFiles } from "./cache-entry.ts";

export type Log = (line: string) => void;

/** What a cache entry records of each package unpacked into it (qemu.json, release.json). */
export interface UnpackedPackage {
  packageName: string;
  version: string;
  /** Of the .deb, as the archive's index states and as measured. */
  sha256: string;
  suite: string;
  /** Set when the archive no longer served the locked package and set-up used another. */
  substituted?: Substitution;
}

/**
 * A lock file, read and parsed once per process (per path, which the
 * environment can change), read again after forget(); a missing file is a
 * LockFileError that says how to write it.
 */
export function lockFileReader<T>(path: () => string, parse: (text: string, file: string) => T, update: string): { read(): T; forget(): void } {
  let cached: { file: string; lock: T } | undefined;
  return {
    read() {
      const file = path();
      if (cached?.file !== file) {
        let text: string;
        try {
          text = readFileSync(file, "utf8");
        } catch (error) {
          throw new LockFileError(`${file}: ${messageOf(error)}; run: ${update}`);
        }
        cached = { file, lock: parse(text, file) };
      }
      return cached.lock;
    },
    forget() {
      cached = undefined;
    },
  };
}

/** Debian's name of this machine's architecture: the QEMU binaries run here. */
export const hostDebianArchitecture = "amd64";
/**
 * The Debian archive to fetch from: $VFORKCHECK_DEBIAN_MIRROR, else the
 * mirror this machine's own apt sources use for Debian (a CI machine may
 * reach Debian only through it), else deb.debian.org.
 */
export function archiveUrl(): string {
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
export const archiveKeyring = "/usr/share/keyrings/debian-archive-keyring.gpg";

/** $VFORKCHECK_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/vforkcheck. */
export function cacheDirectory(): string {
  const explicit = process.env.VFORKCHECK_CACHE;
  if (explicit) return explicit;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "vforkcheck");
}


/** One package's record in the archive's index (apt-cache show): field name to value. */
export type Stanza = Record<string, string>;

export interface PrivateApt {
  /** The record of the version apt would install. */
  show(packageName: string): Promise<Stanza>;
  /** The records of every version the index serves under this name; none when it serves no such package. */
  served(packageName: string): Promise<Stanza[]>;
  /** Downloads the record's .deb into `directory`, checks its SHA256 and returns its path. */
  download(stanza: Stanza, directory: string): Promise<string>;
  /** The package names the index lists that start with `prefix`. */
  names(prefix: string): Promise<string[]>;
  /** The package and every package it needs to run, as apt resolves them for an empty system (src/apt-simulation.ts). */
  closure(packageName: string): Promise<SimulatedInstall[]>;
}

/**
 * The private apt's directory and options, its lists updated once per
 * process and cache: a fresh set-up fetches a dozen packages of one suite,
 * and updating the lists for each was most of its time. Each caller still
 * gets a PrivateApt of its own, which logs through that caller's `log`.
 */
function privateAptLists(suite: string, debianArchitecture: string, log: Log): Promise<{ directory: string; options: string[] }> {
  const key = `${cacheDirectory()}\0${suite}\0${debianArchitecture}`;
  let updated = updatedPrivateAptLists.get(key);
  if (updated === undefined) {
    updated = updatePrivateAptLists(suite, debianArchitecture, log);
    updatedPrivateAptLists.set(key, updated);
    updated.catch(() => updatedPrivateAptLists.delete(key));
  }
  return updated;
}

const updatedPrivateAptLists = new Map<string, Promise<{ directory: string; options: string[] }>>();

async function updatePrivateAptLists(suite: string, debianArchitecture: string, log: Log): Promise<{ directory: string; options: string[] }> {
  const directory = join(cacheDirectory(), "apt", `${suite}-${debianArchitecture}`);
  await mkdir(join(directory, "lists", "partial"), { recursive: true });
  await mkdir(join(directory, "cache"), { recursive: true });
  await mkdir(join(directory, "sources.list.d"), { recursive: true });
  const entry = debianArchitecture === sourceIndex ? `deb-src [signed-by=${archiveKeyring}]` : `deb [arch=${debianArchitecture} signed-by=${archiveKeyring}]`;
  await writeFile(join(directory, "sources.list"), `${entry} ${archiveUrl()} ${suite} main\n`);
  if (!existsSync(join(directory, "status"))) await writeFile(join(directory, "status"), "");
  const options = [
    "-o", `Dir::State=${directory}`,
    "-o", `Dir::State::Lists=${join(directory, "lists")}`,
    "-o", `Dir::State::status=${join(directory, "status")}`,
    "-o", `Dir::Cache=${join(directory, "cache")}`,
    "-o", `Dir::Etc::SourceList=${join(directory, "sources.list")}`,
    "-o", `Dir::Etc::SourceParts=${join(directory, "sources.list.d")}`,
    "-o", `APT::Architecture=${hostDebianArchitecture}`,
    ...(debianArchitecture === sourceIndex ? [] : ["-o", `APT::Architectures::=${debianArchitecture}`]),
    "-o", "Acquire::Languages=none",
    // What is fetched is pinned by sha256 in the locks, so an index past its
    // Valid-Until (a mirror serving forky's late) cannot change a download;
    // a stock apt would refuse it as "expired".
    "-o", "Acquire::Check-Valid-Until=false",
    // As root apt downloads as the user _apt, who cannot write into root's home.
    ...(process.getuid?.() === 0 ? ["-o", "APT::Sandbox::User=root"] : []),
  ];

  log(`updating the package lists of ${suite}/${debianArchitecture} in ${directory}`);
  // A foreign architecture's lists can fail for a while ("File has unexpected
  // size ... Mirror sync in progress?"): retry.
  const attempts = 3;
  for (let attempt = 1; ; attempt += 1) {
    const update = await runCommand(["apt-get", "-q", ...options, "update"]);
    // apt-get update exits 0 when a list failed to download ("W: Failed to fetch ...", old lists used): right for a
    // network that comes and goes, where the old lists still serve the pinned packages; not for a full disk, which
    // leaves no lists at all and would be read later as "No packages found".
    if (update.status === 0 && !outOfSpace(update)) break;
    if (!aptUpdateAgain(update, attempt, attempts)) throw aptFault(update, { what: `the package lists of ${suite}/${debianArchitecture}`, from: archiveUrl(), directory, attempts: attempt, message: lastError(update) });
    log(`apt-get update of ${suite}/${debianArchitecture} failed (${lastError(update)}); retrying in ${aptRetrySeconds} s`);
    await new Promise((resolve) => setTimeout(resolve, aptRetrySeconds * 1000));
  }
  return { directory, options };
}

/** The "architecture" of a suite's Sources index: the private apt of (suite, sourceIndex) lists source packages (deb-src). */
export const sourceIndex = "source";

/**
 * A source package's files (.dsc, .orig.tar.*, .debian.tar.*) downloaded
 * into `directory` by `apt-get source --download-only`, which checks each
 * against the suite's signed Sources index; resolves with the .dsc's path.
 */
export async function downloadSourcePackage(suite: string, packageName: string, version: string, directory: string, log: Log): Promise<string> {
  const { options } = await privateAptLists(suite, sourceIndex, log);
  log(`downloading the source package ${packageName} ${version} (${suite})`);
  const download = await runCommand(["apt-get", "-q", ...options, "source", "--download-only", `${packageName}=${version}`], directory);
  if (download.status !== 0) throw new Error(`${packageName} ${version}: apt-get source: ${lastError(download)}`);
  const dsc = `${packageName}_${version.replace(/^\d+:/, "")}.dsc`;
  if (!existsSync(join(directory, dsc))) throw new Error(`${packageName} ${version}: apt-get source left no ${dsc}`);
  return join(directory, dsc);
}

/**
 * apt pointed at one suite and architecture of the archive, with its lists,
 * status and sources in apt/<suite>-<debianArch>/. Only Dir::State,
 * Dir::Cache and the source lists are redirected: the machine's apt.conf.d
 * (proxies) still applies. Updates the lists before returning (once per process).
 */
export async function openPrivateApt(suite: string, debianArchitecture: string, log: Log): Promise<PrivateApt> {
  const { options } = await privateAptLists(suite, debianArchitecture, log);
  // An Architecture: all package is listed in the target's index but named
  // without it (`node-acorn`, not `node-acorn:armhf`): a name apt does not
  // know with the target's qualifier is tried as :all.
  const qualifiedNames = new Map<string, Promise<string>>();
  const qualified = (packageName: string): Promise<string> => {
    if (!qualifiedNames.has(packageName)) qualifiedNames.set(packageName, qualify(packageName));
    return qualifiedNames.get(packageName)!;
  };
  const qualify = async (packageName: string): Promise<string> => {
    const probe = await runCommand(["apt-cache", ...options, "show", "--no-all-versions", `${packageName}:${debianArchitecture}`]);
    if (probe.status === 0 && probe.stdout.trim() !== "") return `${packageName}:${debianArchitecture}`;
    const all = await runCommand(["apt-cache", ...options, "show", "--no-all-versions", `${packageName}:all`]);
    return all.status === 0 && /^Architecture: all$/m.test(all.stdout) ? `${packageName}:all` : `${packageName}:${debianArchitecture}`;
  };
  return {
    async show(packageName) {
      // --no-all-versions: only the candidate, which with nothing installed
      // and a single source is the highest version in the index.
      const show = await runCommand(["apt-cache", ...options, "show", "--no-all-versions", await qualified(packageName)]);
      if (show.status !== 0) throw new Error(`${packageName}: apt-cache show: ${lastError(show)}`);
      const stanza = parseStanza(show.stdout);
      for (const field of ["Package", "Version", "SHA256", "Size"]) {
        if (stanza[field] === undefined) throw new Error(`${packageName}: apt-cache show: no ${field} field`);
      }
      return stanza;
    },
    async served(packageName) {
      const show = await runCommand(["apt-cache", ...options, "show", "--all-versions", await qualified(packageName)]);
      if (show.status !== 0 && /No packages found|Unable to locate/.test(`${show.stdout}${show.stderr}`)) return [];
      if (show.status !== 0) throw new Error(`${packageName}: apt-cache show: ${lastError(show)}`);
      return parseStanzas(show.stdout).filter((stanza) => stanza.Version !== undefined && stanza.SHA256 !== undefined);
    },
    async download(stanza, into) {
      const name = stanza.Package!;
      log(`downloading ${name} ${stanza.Version} (${suite}/${debianArchitecture}, ${megabytes(Number(stanza.Size))})`);
      const debDirectory = await mkdtemp(join(into, "deb-"));
      const download = await runCommand(["apt-get", "-q", ...options, "download", `${name}:${stanza.Architecture === "all" ? "all" : debianArchitecture}=${stanza.Version}`], debDirectory);
      if (download.status !== 0) throw aptFault(download, { what: `${name} ${stanza.Version}`, from: archiveUrl(), directory: debDirectory, neededBytes: Number(stanza.Size), message: lastError(download) });
      const debs = (await readdir(debDirectory)).filter((file) => file.endsWith(".deb"));
      if (debs.length !== 1) throw new Error(`${name}: apt-get download: expected one .deb, found ${debs.length}`);
      const deb = join(debDirectory, debs[0]!);
      const sha256 = await sha256Of(deb);
      if (sha256 !== stanza.SHA256) throw new Error(`${name}: sha256 of ${basename(deb)} is ${sha256}, the index says ${stanza.SHA256}`);
      return deb;
    },
    async names(prefix) {
      const listed = await runCommand(["apt-cache", ...options, "pkgnames", prefix]);
      if (listed.status !== 0) throw new Error(`apt-cache pkgnames ${prefix}: ${lastError(listed)}`);
      return listed.stdout.split("\n").map((name) => name.trim()).filter((name) => name !== "");
    },
    async closure(packageName) {
      const simulated = await runCommand(["apt-get", "-q", ...options, "-s", "install", "--no-install-recommends", `${packageName}:${debianArchitecture}`]);
      if (simulated.status !== 0) throw new Error(`${packageName}: apt-get -s install: ${lastError(simulated)}`);
      const installs = parseSimulatedInstall(simulated.stdout);
      if (!installs.some((install) => install.package === packageName)) throw new Error(`${packageName}: apt-get -s install does not install it (${installs.length} other packages)`);
      return installs;
    },
  };
}

/**
 * The locked package's record when the index still serves it; else the
 * archive's current one (`current`), announced by one line and recorded as
 * a substitution.
 */
export async function lockedOrServed(apt: PrivateApt, architecture: string, locked: PinnedPackage, current: () => Promise<Stanza>, log: Log): Promise<{ stanza: Stanza; substituted?: Substitution }> {
  const served = await apt.served(locked.package);
  const stanza = findLockedVersion(locked, served.map((record) => ({ record, version: record.Version!, sha256: record.SHA256! })))?.record;
  if (stanza !== undefined) return { stanza };
  const used = await current();
  const { substituted, line } = substitution(architecture, locked, { package: used.Package!, version: used.Version! });
  log(line);
  return { stanza: used, substituted };
}


const inFlight = new Map<string, Promise<unknown>>();

/** Runs `fetch` for a cache directory once at a time in this process: concurrent callers share it. */
export function fetchOnce<T>(directory: string, fetch: () => Promise<T>): Promise<T> {
  let pending = inFlight.get(directory) as Promise<T> | undefined;
  if (pending === undefined) {
    pending = fetch().finally(() => inFlight.delete(directory));
    inFlight.set(directory, pending);
  }
  return pending;
}

/**
 * Builds a cache entry in a scratch directory beside `directory` and renames
 * it into place only once complete, its manifest written last (cache-entry.ts:
 * what `hashed` selects is hashed in full), so a killed run leaves no half
 * entry, only a scratch directory .tmp-<name>-<pid>-*, which a later run
 * removes once that process is gone (sweepStaleTemporaries).
 */
export async function buildAtomically<T>(directory: string, build: (scratch: string, output: string) => Promise<T>, hashed: HashedFiles = hashEveryFile): Promise<T> {
  // A second early: a filesystem's timestamps lag the clock by a tick.
  const started = Date.now() - 1000;
  const parent = dirname(directory);
  const prefix = `${temporaryPrefix}${basename(directory)}-`;
  await mkdir(parent, { recursive: true });
  const scratch = await mkdtemp(join(parent, `${prefix}${temporaryOwnerTag()}-`));
  try {
    const output = join(scratch, "output");
    await mkdir(output);
    const result = await build(scratch, output);
    await writeManifest(output, hashed);
    // Another process that built the same entry meanwhile put it in place: its gate may be using it now, so it stays,
    // and this one is dropped (removing it, even for a moment, failed the other's next exec with ENOENT).
    if (await placedSince(directory, started)) return result;
    // An older entry (another version, or one found corrupt) is moved aside
    // first, so that the name is missing only between two renames.
    await rename(directory, join(scratch, "replaced")).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw error;
    });
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

/** Whether a whole entry (its manifest written last) was put at `directory` after `sinceMs`. */
async function placedSince(directory: string, sinceMs: number): Promise<boolean> {
  try {
    return (await stat(join(directory, manifestName))).mtimeMs >= sinceMs;
  } catch {
    return false;
  }
}

/** `dpkg-deb --fsys-tarfile deb | tar -x --wildcards patterns`, into `directory`. */
export function extractFromDeb(deb: string, directory: string, patterns: readonly string[], packageName: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const dpkg = spawnDyingWithHarness("dpkg-deb", ["--fsys-tarfile", deb], { stdio: ["ignore", "pipe", "pipe"] });
    const tar = spawnDyingWithHarness("tar", ["-x", "-C", directory, "--wildcards", ...patterns], { stdio: ["pipe", "ignore", "pipe"] });
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

export interface CommandResult { status: number; stdout: string; stderr: string }

export function runCommand(argv: readonly string[], cwd?: string): Promise<CommandResult> {
  const [command, ...args] = argv as [string, ...string[]];
  return new Promise((resolve, reject) => {
    const child = spawnDyingWithHarness(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => { stdout += chunk; });
    child.stderr.on("data", (chunk) => { stderr += chunk; });
    child.on("error", (error) => reject(new Error(`${command}: ${error.message}`)));
    child.on("close", (code) => resolve({ status: code ?? 1, stdout, stderr }));
  });
}

/** apt's "E: ..." line when there is one, else the last line it wrote. */
export function lastError(result: CommandResult): string {
  const lines = `${result.stdout}\n${result.stderr}`.split("\n").map((line) => line.trim()).filter((line) => line !== "");
  return [...lines].reverse().find((line) => line.startsWith("E:")) ?? lines.at(-1) ?? `status ${result.status}`;
}

/** Every stanza of apt-cache show's output, split at blank lines. */
export function parseStanzas(text: string): Stanza[] {
  return text.split(/\n\s*\n/).filter((block) => block.trim() !== "").map(parseStanza);
}

/** The first stanza of apt-cache show's output; continuation lines are appended to their field. */
export function parseStanza(text: string): Stanza {
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
export function dependencyNames(depends: string): string[] {
  return depends.split(",").map((dependency) => dependency.split("|")[0]!.trim().split(/[\s(:]/)[0]!).filter((name) => name !== "");
}

export async function regularFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

export function sha256Of(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path).on("data", (chunk) => hash.update(chunk)).on("error", reject).on("end", () => resolve(hash.digest("hex")));
  });
}

export async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as T;
  } catch {
    return undefined;
  }
}

export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A cache entry is the locked package: that version, or what set-up used when the archive no longer served it. */
export function isLockedEntry(record: { packageName: string; version: string; sha256: string; substituted?: Substitution }, locked: PinnedPackage): boolean {
  if (record.substituted) return record.substituted.locked.package === locked.package && record.substituted.locked.version === locked.version;
  return record.packageName === locked.package && record.version === locked.version && record.sha256 === locked.sha256;
}
