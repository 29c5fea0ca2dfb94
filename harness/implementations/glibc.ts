/**
 * The glibc implementation's driver (impls/glibc/driver.c: spawns through
 * glibc's posix_spawn), built statically with a Debian gcc and glibc for the
 * target and cached by content like the native build (harness/build/build.ts):
 * build/glibc-<arch>-<hash>/vforkcheck-glibc-driver is never rebuilt while
 * the source, the compiler (and the libc.a it links) and the target are the
 * same. A missing cross toolchain is installed from Debian (bookworm).
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { findArchitecture, type Architecture, type ArchitectureName } from "../../src/architectures.ts";
import { findOnPath } from "../toolchain/required-tools.ts";
import { TargetUnavailableError, type ImplementationAdapter } from "./adapter.ts";
import { installDebianPackages } from "../toolchain/apt.ts";
import { buildRoot } from "../build/build.ts";
import { projectRoot } from "../process/project-root.ts";

export const glibcDriverName = "vforkcheck-glibc-driver";
export const glibcSource = join(projectRoot, "impls", "glibc", "driver.c");
/** The protocol's encodings, shared with the reference driver. */
const codecSource = join(projectRoot, "native", "codec.c");
const codecHeader = join(projectRoot, "native", "codec.h");

/** The gcc that builds for one architecture, and the Debian packages that provide it with a static glibc. */
export interface GlibcToolchain {
  compiler: string;
  debianPackages: string[];
}

/** Why an architecture has no toolchain row. */
export const glibcToolchainMissing: Partial<Record<ArchitectureName, string>> = {
  loong64: "Debian bookworm has no loongarch64-linux-gnu cross gcc and no libc6-dev-loong64-cross (the port is not in bookworm)",
};

/**
 * One row per architecture: Debian's cross gcc (gcc-<triple>) and the glibc
 * built for that architecture (libc6-dev-<debian arch>-cross), whose libc.a
 * makes the -static link. amd64 is the host's own gcc and libc6-dev (the
 * harness runs on an amd64 host).
 */
const toolchains: Partial<Record<ArchitectureName, GlibcToolchain>> = {
  amd64: { compiler: "gcc", debianPackages: ["gcc", "libc6-dev"] },
  "386": { compiler: "i686-linux-gnu-gcc", debianPackages: ["gcc-i686-linux-gnu", "libc6-dev-i386-cross"] },
  arm64: { compiler: "aarch64-linux-gnu-gcc", debianPackages: ["gcc-aarch64-linux-gnu", "libc6-dev-arm64-cross"] },
  // Debian's armhf: v7, hard float, as the native build's armv7a-linux-gnueabihf.
  arm: { compiler: "arm-linux-gnueabihf-gcc", debianPackages: ["gcc-arm-linux-gnueabihf", "libc6-dev-armhf-cross"] },
  ppc64le: { compiler: "powerpc64le-linux-gnu-gcc", debianPackages: ["gcc-powerpc64le-linux-gnu", "libc6-dev-ppc64el-cross"] },
  s390x: { compiler: "s390x-linux-gnu-gcc", debianPackages: ["gcc-s390x-linux-gnu", "libc6-dev-s390x-cross"] },
  riscv64: { compiler: "riscv64-linux-gnu-gcc", debianPackages: ["gcc-riscv64-linux-gnu", "libc6-dev-riscv64-cross"] },
  mips64le: { compiler: "mips64el-linux-gnuabi64-gcc", debianPackages: ["gcc-mips64el-linux-gnuabi64", "libc6-dev-mips64el-cross"] },
};

/** The toolchain for an architecture, or undefined (glibcToolchainMissing says why). */
export function glibcToolchain(architecture: Architecture): GlibcToolchain | undefined {
  return toolchains[architecture.name];
}

interface Finished {
  status: number;
  stdout: string;
  stderr: string;
}

class CommandNotFound extends Error {}

function run(command: string, args: readonly string[], cwd?: string): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LC_ALL: "C" } });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", (error: NodeJS.ErrnoException) => {
      reject(error.code === "ENOENT" || error.code === "EACCES" ? new CommandNotFound(`${command} not found`) : error);
    });
    child.on("close", (code, signal) => {
      resolve({ status: code ?? 128, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() + (signal ? `killed by ${signal}\n` : "") });
    });
  });
}

/** The flags, apart from the output path: part of the cache key. */
const compilerFlags = ["-O2", "-static", "-Wall", "-Wextra", "-o"] as const;

/**
 * What the output depends on besides the source: the compiler's version and
 * target, and the static glibc it links (libc.a's path, size and time: a
 * libc6-dev upgrade keeps the compiler but changes the binary).
 */
async function compilerIdentity(toolchain: GlibcToolchain): Promise<string> {
  const version = await run(toolchain.compiler, ["--version"]);
  if (version.status !== 0) throw new Error(`${toolchain.compiler} --version failed with status ${version.status}`);
  const machine = await run(toolchain.compiler, ["-dumpmachine"]);
  const libc = (await run(toolchain.compiler, ["-print-file-name=libc.a"])).stdout.trim();
  let libcStamp = "no libc.a";
  if (libc.startsWith("/") && existsSync(libc)) {
    const stat = statSync(libc);
    libcStamp = `${libc}\0${stat.size}\0${stat.mtimeMs}`;
  }
  return [version.stdout.split("\n")[0] ?? "", machine.stdout.trim(), libcStamp].join("\n");
}

const identities = new Map<string, Promise<string>>();

/** The compiler's identity, installing the toolchain first when it is missing. */
function toolchainIdentity(architecture: Architecture, toolchain: GlibcToolchain): Promise<string> {
  let identity = identities.get(architecture.name);
  if (identity === undefined) {
    identity = (async () => {
      try {
        return await compilerIdentity(toolchain);
      } catch (error) {
        if (!(error instanceof CommandNotFound)) throw error;
        await installDebianPackages(toolchain.debianPackages, `${toolchain.compiler} (glibc driver for ${architecture.name}) not found`);
        return compilerIdentity(toolchain);
      }
    })();
    identities.set(architecture.name, identity);
    // A failure is not remembered: installing by hand and asking again works.
    identity.catch(() => identities.delete(architecture.name));
  }
  return identity;
}

function cacheKey(source: Buffer, architecture: Architecture, toolchain: GlibcToolchain, identity: string): string {
  return createHash("sha256")
    .update(`${source.length}:`)
    .update(source)
    .update(JSON.stringify({ arch: architecture.name, compiler: toolchain.compiler, flags: compilerFlags }))
    .update(identity)
    .digest("hex")
    .slice(0, 16);
}

function splitSources(joined: Buffer): [Buffer, Buffer, Buffer] {
  const first = joined.indexOf(0);
  const second = joined.indexOf(0, first + 1);
  return [joined.subarray(0, first), joined.subarray(first + 1, second), joined.subarray(second + 1)];
}

/** Builds in flight in this process, so concurrent identical requests share one compiler run. */
const inFlight = new Map<string, Promise<string>>();

/**
 * Builds (or finds already built) the static glibc driver for one
 * architecture; resolves with the binary's path. Throws for an architecture
 * without a Debian toolchain (loong64), with the reason.
 */
export async function buildGlibcDriver(architecture: Architecture): Promise<string> {
  const toolchain = glibcToolchain(architecture);
  if (toolchain === undefined) {
    throw new Error(`no glibc toolchain for ${architecture.name}: ${glibcToolchainMissing[architecture.name] ?? "no row in harness/implementations/glibc.ts"}`);
  }
  const identity = await toolchainIdentity(architecture, toolchain);
  // Every input in one buffer: the driver, then the shared codec and its header.
  const source = Buffer.concat([readFileSync(glibcSource), Buffer.from("\0"), readFileSync(codecSource), Buffer.from("\0"), readFileSync(codecHeader)]);
  const directory = join(buildRoot, `glibc-${architecture.name}-${cacheKey(source, architecture, toolchain, identity)}`);
  const output = join(directory, glibcDriverName);
  if (existsSync(directory)) return output;

  let build = inFlight.get(directory);
  if (build === undefined) {
    build = buildInto(directory, source, toolchain, identity, architecture.name).then(() => output);
    inFlight.set(directory, build);
    void build.finally(() => inFlight.delete(directory)).catch(() => {});
  }
  return build;
}

/**
 * Compiles the source as it was hashed (a copy in the temporary directory,
 * so a concurrent edit cannot land under the wrong key), then renames the
 * directory into place: the first rename wins a race.
 */
async function buildInto(directory: string, source: Buffer, toolchain: GlibcToolchain, identity: string, what: ArchitectureName): Promise<void> {
  await mkdir(buildRoot, { recursive: true });
  const temporary = await mkdtemp(`${directory}.tmp-`);
  try {
    // The sources as they were hashed (copies), so a concurrent edit cannot land under the wrong key.
    const [driver, codec, header] = splitSources(source);
    const copy = join(temporary, "driver.c");
    await writeFile(copy, driver);
    await writeFile(join(temporary, "codec.c"), codec);
    await writeFile(join(temporary, "codec.h"), header);
    const args = ["-DVFC_HOSTED", "-I", temporary, ...compilerFlags, join(temporary, glibcDriverName), copy, join(temporary, "codec.c")];
    const { status, stderr } = await run(toolchain.compiler, args, projectRoot);
    if (status !== 0) {
      const lines = stderr.split("\n").filter((line) => line.trim() !== "").slice(0, 10);
      throw new Error(`glibc driver build failed for ${what} (${toolchain.compiler}, status ${status}):\n${lines.join("\n")}`);
    }
    for (const name of ["driver.c", "codec.c", "codec.h"]) await rm(join(temporary, name));
    await writeFile(join(temporary, "build.log"), `${[toolchain.compiler, ...args].join(" ")}\n${identity}\n${stderr}`);
    await rename(temporary, directory).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
    });
  } finally {
    await rm(temporary, { recursive: true, force: true });
  }
}

/** The toolchains `setup --impl-tools` installs: the ones the tests build with. */
const testedArchitectures = ["amd64", "arm64"] as const;

/** glibc's posix_spawn (impls/glibc/driver.c), linked statically with Debian's gcc or its cross compilers. */
export const glibcImplementation: ImplementationAdapter = {
  name: "glibc",
  tiers: ["host", "user"],
  whyNotOtherTiers: "the glibc driver is not packed into a VM yet",
  takesDefines: false,
  replayOptions: () => " --impl glibc",
  label: () => "glibc",
  // "glibc 2.36": the host's, which the amd64 toolchain links; the cross libc6-dev packages come from the same release.
  version: async () => spawnSync("getconf", ["GNU_LIBC_VERSION"], { encoding: "utf8" }).stdout?.trim().split(" ")[1] ?? "unknown",
  driverCommand: async (_spec, architecture) => {
    if (glibcToolchain(architecture) === undefined)
      throw new TargetUnavailableError(`no glibc build for ${architecture.name}: ${glibcToolchainMissing[architecture.name] ?? "no cross toolchain"}`);
    return { program: await buildGlibcDriver(architecture), args: ["--driver"] };
  },
  // A missing cross toolchain is installed by the build itself (buildGlibcDriver).
  requiredTools: () => [],
  installForTests: async () => {
    for (const name of testedArchitectures) {
      const toolchain = glibcToolchain(findArchitecture(name)!);
      if (toolchain && findOnPath(toolchain.compiler) === undefined) await installDebianPackages(toolchain.debianPackages, `glibc's ${name} toolchain (${toolchain.compiler}) is missing`);
    }
  },
  toolchain: async (_spec, architecture) => {
    const compiler = glibcToolchain(architecture)?.compiler;
    return compiler ? (await run(compiler, ["--version"])).stdout.split("\n")[0]! : undefined;
  },
};
