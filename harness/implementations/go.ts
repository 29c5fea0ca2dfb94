/**
 * The Go implementation's driver (impls/go: spawns through syscall.ForkExec
 * and os.StartProcess), cross-built with a Go toolchain and cached by content
 * like the native build (harness/build/build.ts):
 * build/go-<arch>-<hash>/vforkcheck-go-driver is never rebuilt while the
 * sources, the target and the toolchain are the same.
 *
 * The toolchain is a release of the registry (`--impl go@1.24`; the bare
 * `go` is the default release, src/runtime-releases.ts), unpacked by
 * ensureRelease and keyed by its pinned packages, or a runtime fork's tree
 * (`--goroot DIR`), keyed by its sources' metadata. The `go` on PATH is
 * never used.
 */
import { spawnDyingWithHarness } from "../process/dies-with-harness.ts";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { findArchitecture, type Architecture, type ArchitectureName } from "../../src/architectures.ts";
import type { ImplementationSpec } from "../../src/implementation-spec.ts";
import { findRelease, releaseName, type RuntimeRelease } from "../../src/runtime-releases.ts";
import { buildRoot, cachedBuild } from "../build/build.ts";
import { ensureRelease, ReleaseUnavailableError } from "../toolchain/runtime-releases.ts";
import { TargetUnavailableError, type ImplementationAdapter } from "./adapter.ts";
import { projectRoot } from "../process/project-root.ts";

/** How Go names one of our architectures. */
export interface GoTarget {
  goarch: string;
  /** GOARM, for arm only: v7 hard-float, as the native build's armv7a-linux-gnueabihf. */
  goarm?: string;
}

/** One row per architecture name. */
export const goTargets: Readonly<Record<ArchitectureName, GoTarget>> = {
  amd64: { goarch: "amd64" },
  "386": { goarch: "386" },
  arm64: { goarch: "arm64" },
  arm: { goarch: "arm", goarm: "7" },
  ppc64le: { goarch: "ppc64le" },
  s390x: { goarch: "s390x" },
  riscv64: { goarch: "riscv64" },
  mips64le: { goarch: "mips64le" },
  loong64: { goarch: "loong64" },
};

export const goDriverName = "vforkcheck-go-driver";
export const goSourceDirectory = join(projectRoot, "impls", "go");

/** `<goroot>/bin/go`. */
export function goCommand(goroot: string): string {
  return join(goroot, "bin", "go");
}

/**
 * The environment every go invocation gets: the caller's, minus whatever
 * would make the output differ from what the cache key says (user go env
 * files, GOFLAGS, GOAMD64-style variants, another GOROOT, toolchain
 * switching, a go.work above the module).
 */
function goEnvironment(goroot: string, target?: GoTarget): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ["GOFLAGS", "GOAMD64", "GO386", "GOARM", "GOMIPS64", "GOPPC64", "GOEXPERIMENT", "GOROOT", "GOOS", "GOARCH", "CGO_ENABLED"]) {
    delete env[name];
  }
  env.GOENV = "off";
  env.GOWORK = "off";
  env.GOTOOLCHAIN = "local";
  env.GOPROXY = "off";
  env.GOROOT = goroot;
  // go refuses to build without a cache directory; give it one under build/ when the environment has none.
  if (env.GOCACHE === undefined && env.XDG_CACHE_HOME === undefined && env.HOME === undefined) env.GOCACHE = join(buildRoot, "go-cache");
  if (target !== undefined) {
    env.CGO_ENABLED = "0";
    env.GOOS = "linux";
    env.GOARCH = target.goarch;
    if (target.goarm !== undefined) env.GOARM = target.goarm;
  }
  return env;
}

interface Finished {
  status: number;
  stdout: string;
  stderr: string;
}

function runGo(goroot: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<Finished> {
  const command = goCommand(goroot);
  return new Promise((resolve, reject) => {
    const child = spawnDyingWithHarness(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT" || error.code === "EACCES") {
        reject(new Error(`go not found: no usable ${command}`));
      } else {
        reject(error);
      }
    });
    child.on("close", (code, signal) => {
      resolve({ status: code ?? 128, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() + (signal ? `killed by ${signal}\n` : "") });
    });
  });
}

const versions = new Map<string, Promise<string>>();

/** `go version` of the toolchain at goroot, asked once per process: part of every build's cache key. */
export function goToolchainVersion(goroot: string): Promise<string> {
  const key = goroot;
  let version = versions.get(key);
  if (version === undefined) {
    version = runGo(goroot, ["version"], goEnvironment(goroot)).then(({ status, stdout, stderr }) => {
      if (status !== 0) throw new Error(`${goCommand(goroot)} version failed: ${(stderr.trim().split("\n")[0] ?? "").trim() || `status ${status}`}`);
      return stdout.trim();
    });
    versions.set(key, version);
    // A failure is not remembered: installing go and asking again works.
    version.catch(() => versions.delete(key));
  }
  return version;
}

/** sha256 over every file under impls/go with its relative path (as nativeTreeDigest does for native/). */
export function goTreeDigest(): string {
  const hash = createHash("sha256");
  const paths = readdirSync(goSourceDirectory, { recursive: true, encoding: "utf8" })
    .filter((relative) => statSync(join(goSourceDirectory, relative)).isFile())
    .sort();
  for (const relative of paths) {
    const path = `impls/go/${relative}`;
    const content = readFileSync(join(goSourceDirectory, relative));
    hash.update(`${path.length}:${path}${content.length}:`).update(content);
  }
  return hash.digest("hex");
}

/**
 * A runtime fork's tree changes under the same path and `go version`: its
 * sources' paths, sizes and modification times key the build too (metadata,
 * not content: a whole GOROOT/src is ~100 MB). Asked once per process.
 */
const goRootDigests = new Map<string, string>();

function goRootSourceDigest(goroot: string): string {
  let digest = goRootDigests.get(goroot);
  if (digest === undefined) {
    const hash = createHash("sha256");
    const source = join(goroot, "src");
    for (const path of readdirSync(source, { recursive: true, encoding: "utf8" }).sort()) {
      const stat = statSync(join(source, path));
      if (stat.isFile()) hash.update(`${path}\0${stat.size}\0${stat.mtimeMs}\n`);
    }
    digest = hash.digest("hex");
    goRootDigests.set(goroot, digest);
  }
  return digest;
}

/**
 * The toolchain a spec names: the GOROOT of --goroot, or of the release
 * (ensureRelease unpacks it; its root/usr/lib/go-<V> is a GOROOT), whose
 * `go version` must be of that release, with the release's pinned packages
 * for the cache key.
 */
export interface GoToolchain {
  goroot: string;
  release?: RuntimeRelease;
  /** "golang-1.24-go 1.24.4-1 <sha256>", one per package of the release. */
  packages: string[];
}

/** The Go toolchain runs on this machine: the release's one unpacked tree serves every GOARCH. */
const toolchainHost = findArchitecture("amd64")!;

const toolchains = new Map<string, Promise<GoToolchain>>();

export function goToolchain(spec: ImplementationSpec): Promise<GoToolchain> {
  if (spec.goroot !== undefined) return Promise.resolve({ goroot: spec.goroot, packages: [] });
  const release = findRelease("go", spec.version);
  if (release === undefined) return Promise.reject(new Error(`go has no release ${spec.version}`));
  let toolchain = toolchains.get(release.version);
  if (toolchain === undefined) {
    toolchain = releaseToolchain(release);
    toolchains.set(release.version, toolchain);
    toolchain.catch(() => toolchains.delete(release.version));
  }
  return toolchain;
}

async function releaseToolchain(release: RuntimeRelease): Promise<GoToolchain> {
  let unpacked;
  try {
    unpacked = await ensureRelease(release, toolchainHost);
  } catch (error) {
    throw error instanceof ReleaseUnavailableError ? new TargetUnavailableError(error.message) : error;
  }
  const goroot = join(unpacked.root, "usr", "lib", `go-${release.version}`);
  const version = await goToolchainVersion(goroot);
  // "go version go1.24.4 linux/amd64" is of go@1.24; "go1.2.4" or "go1.240" would not be.
  if (!new RegExp(`^go version go${release.version.replace(/\./g, "\\.")}(\\.|\\s|rc|beta)`).test(version)) {
    throw new Error(`${releaseName(release)}: ${goCommand(goroot)} says "${version}", not Go ${release.version}`);
  }
  return { goroot, release, packages: unpacked.packages.map((record) => `${record.packageName} ${record.version} ${record.sha256}`) };
}

function cacheKey(target: GoTarget, version: string, toolchain: GoToolchain): string {
  return createHash("sha256")
    .update(goTreeDigest())
    .update(JSON.stringify({ goarch: target.goarch, goarm: target.goarm ?? null }))
    .update(version)
    .update(JSON.stringify({ goroot: toolchain.goroot, packages: toolchain.packages }))
    // A release is what its pinned packages are; a fork's tree changes under the same path.
    .update(toolchain.release === undefined ? goRootSourceDigest(toolchain.goroot) : "")
    .digest("hex")
    .slice(0, 16);
}

/**
 * Builds (or finds already built) the Go driver for one architecture with
 * the spec's toolchain; resolves with the binary's path. A release without
 * a port to the architecture is a TargetUnavailableError, as its go build
 * says.
 */
export async function buildGoDriver(architecture: Architecture, spec: ImplementationSpec): Promise<string> {
  const target = goTargets[architecture.name] as GoTarget | undefined;
  if (target === undefined) throw new Error(`no Go target for architecture "${architecture.name}"`);
  const toolchain = await goToolchain(spec);
  const version = await goToolchainVersion(toolchain.goroot);
  const directory = join(buildRoot, `go-${architecture.name}-${cacheKey(target, version, toolchain)}`);
  await cachedBuild(directory, `the Go driver for ${architecture.name}`, (output) => buildInto(output, target, toolchain.goroot, architecture.name));
  return join(directory, goDriverName);
}

/** Builds into `output`, a scratch directory cachedBuild renames into place. */
async function buildInto(output: string, target: GoTarget, goroot: string, what: ArchitectureName): Promise<void> {
  // -buildvcs=false: impls/go sits in this git checkout, and stamping its state would tie the binary to it.
  const args = ["build", "-trimpath", "-buildvcs=false", "-o", join(output, goDriverName), "."];
  const env = goEnvironment(goroot, target);
  const { status, stderr } = await runGo(goroot, args, env, goSourceDirectory);
  if (status !== 0) {
    const lines = stderr.split("\n").filter((line) => line.trim() !== "").slice(0, 10);
    const unsupported = lines.find((line) => line.includes("unsupported GOOS/GOARCH pair"));
    if (unsupported !== undefined) throw new TargetUnavailableError(`${(await goToolchainVersion(goroot)).split(" ")[2]} has no port to linux/${target.goarch} (go build: ${unsupported.trim()})`);
    throw new Error(`go build failed for ${what} (GOARCH=${target.goarch}, status ${status}):\n${lines.join("\n")}`);
  }
  const settings = ["CGO_ENABLED", "GOOS", "GOARCH", "GOARM", "GOROOT"].flatMap((name) => (env[name] === undefined ? [] : [`${name}=${env[name]}`]));
  await writeFile(join(output, "build.log"), `${[...settings, goCommand(goroot), ...args].join(" ")}\n${await goToolchainVersion(goroot)}\n${stderr}`);
}

/** The GOROOT of the default release (go@1.19), fetched when not cached: what the tests build and patch. */
export async function defaultGoRoot(): Promise<string> {
  return (await goToolchain({ name: "go" })).goroot;
}

/**
 * syscall.ForkExec and os.StartProcess (impls/go), built for every GOARCH by
 * a Go release of the registry (go, go@1.24) or a fork's tree (--goroot).
 */
export const goImplementation: ImplementationAdapter = {
  name: "go",
  tiers: ["host", "user", "system"],
  takesDefines: false,
  knownFindings: join(goSourceDirectory, "known-findings.json"),
  replayOptions: (spec) => (spec.goroot ? ` --impl go --goroot ${spec.goroot}` : ` --impl ${goLabel(spec)}`),
  label: (spec) => (spec.goroot ? `go@${spec.goroot}` : goLabel(spec)),
  // "go version go1.19.8 linux/amd64" -> "go1.19.8"
  version: async (spec) => (await goToolchainVersion((await goToolchain(spec)).goroot)).split(" ")[2] ?? "unknown",
  driverCommand: async (spec, architecture) => ({ program: await buildGoDriver(architecture, spec), args: ["--driver"] }),
  // The toolchain comes from the registry (ensureRelease) or from --goroot: nothing to install.
  requiredTools: () => [],
  installForTests: async () => void (await defaultGoRoot()),
  toolchain: async (spec) => {
    const toolchain = await goToolchain(spec);
    const version = await goToolchainVersion(toolchain.goroot);
    return toolchain.release ? `${version} (${releaseName(toolchain.release)}: ${toolchain.packages.map((text) => text.split(" ").slice(0, 2).join(" ")).join(", ")})` : version;
  },
};

/** "go" for the bare name (the default release), "go@1.24" for a named one. */
function goLabel(spec: ImplementationSpec): string {
  return spec.version === undefined ? "go" : `go@${spec.version}`;
}
