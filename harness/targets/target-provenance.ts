/**
 * What a target ran on, for the report, so a verdict can be reproduced: the
 * kernel (the locked Debian package the VM booted, or the host's), the QEMU
 * (its binary and the package version it came from) and the toolchains
 * (clang for native/, and the implementation's own). Every query is asked
 * once per process.
 */
import { spawn } from "node:child_process";
import { release } from "node:os";
import type { Architecture } from "../../src/architectures.ts";
import type { Substitution } from "../../src/kernel-lock.ts";
import { clangVersion } from "../toolchain/clang.ts";
import type { ImplementationSpec } from "../../src/implementation-spec.ts";
import { implementationToolchain } from "../implementations/index.ts";
import { cachedQemuRecords, ensureKernel, ensureQemuSystem } from "../toolchain/kernels.ts";
import { ensureQemuUser, qemuUserBinary } from "../toolchain/qemu-user.ts";
import type { TierName } from "../../src/tiers.ts";

export interface KernelProvenance {
  package: string;
  version: string;
  /** Of the .deb the kernel came from. */
  sha256: string;
  /** Of the kernel file QEMU boots, as checked when it was used. */
  file?: { sha256: string; size: number };
  suite: string;
  substituted?: Substitution;
}

export interface QemuProvenance {
  binary: string;
  package: string;
  version: string;
  /** Set for a QEMU set-up unpacked from a suite (locked in kernels.lock.json: qemu-user, loong64's qemu-system); absent for the machine's own (dpkg). */
  suite?: string;
  sha256?: string;
  substituted?: Substitution;
}

export interface TargetProvenance {
  /** The booted package, or "host kernel <uname -r>" on the host and user tiers (qemu-user runs on the host's kernel). */
  kernel: KernelProvenance | string;
  qemu: QemuProvenance | null;
  toolchain: {
    /** clang's first --version line: it builds native/ (the reference, the probe, the VM's init). */
    native: string;
    /** The implementation's own toolchain, when it is not native/'s. */
    implementation?: string;
  };
}

interface ProvenanceOf {
  architecture: Architecture;
  tier: TierName | string;
  implementation?: ImplementationSpec;
}

const answers = new Map<string, Promise<string>>();

/** A command's stdout, asked once per process; a failure is not remembered. */
function outputOf(argv: readonly string[]): Promise<string> {
  const key = argv.join("\u0000");
  let answer = answers.get(key);
  if (answer === undefined) {
    answer = new Promise<string>((resolve, reject) => {
      const [command, ...args] = argv as [string, ...string[]];
      const child = spawn(command, args, { stdio: ["ignore", "pipe", "ignore"] });
      let stdout = "";
      child.stdout.on("data", (chunk) => { stdout += chunk; });
      child.on("error", reject);
      child.on("close", (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${argv.join(" ")}: status ${code}`))));
    });
    answers.set(key, answer);
    answer.catch(() => answers.delete(key));
  }
  return answer;
}

/** The installed Debian package a file belongs to and its version (dpkg-query). */
async function installedPackageOf(path: string): Promise<{ package: string; version: string }> {
  try {
    const owner = (await outputOf(["dpkg-query", "-S", path])).split("\n")[0]!.split(":")[0]!.trim();
    return { package: owner, version: (await outputOf(["dpkg-query", "-W", "-f=${Version}", owner])).trim() };
  } catch {
    return { package: "(not from a Debian package)", version: "unknown" };
  }
}

async function qemuOf(architecture: Architecture, tier: string): Promise<QemuProvenance | null> {
  if (tier === "host") return null;
  if (tier === "user") {
    const record = await ensureQemuUser();
    return { binary: qemuUserBinary(architecture), package: record.packageName, version: record.version, suite: record.suite, sha256: record.sha256, ...(record.substituted ? { substituted: record.substituted } : {}) };
  }
  const binary = await ensureQemuSystem(architecture);
  const suite = architecture.system.qemuSuite;
  if (suite === undefined) return { binary, ...(await installedPackageOf(binary)) };
  const record = (await cachedQemuRecords(suite)).find((entry) => entry.packageName === architecture.system.qemuPackage);
  if (record === undefined) return { binary, package: architecture.system.qemuPackage, version: "unknown", suite };
  return { binary, package: record.packageName, version: record.version, suite, sha256: record.sha256, ...(record.substituted ? { substituted: record.substituted } : {}) };
}

async function kernelOf(architecture: Architecture, tier: string): Promise<KernelProvenance | string> {
  if (tier !== "system") return `host kernel ${release()}`;
  const image = await ensureKernel(architecture);
  return { package: image.packageName, version: image.version, sha256: image.sha256, ...(image.file ? { file: image.file } : {}), suite: image.suite, ...(image.substituted ? { substituted: image.substituted } : {}) };
}

/** The kernel, QEMU and toolchains of a target; a query that fails says so instead of failing the report. */
export async function provenanceOf(target: ProvenanceOf): Promise<TargetProvenance> {
  const settle = <T>(promise: Promise<T>, fallback: (error: Error) => T) => promise.catch((error: Error) => fallback(error));
  const [kernel, qemu, native, implementation] = await Promise.all([
    settle(kernelOf(target.architecture, target.tier), (error) => `unknown: ${error.message}`),
    settle(qemuOf(target.architecture, target.tier), (error) => ({ binary: "unknown", package: "unknown", version: `unknown: ${error.message}` })),
    settle(clangVersion().then((text) => text.split("\n")[0]!), (error) => `unknown: ${error.message}`),
    settle(implementationToolchain(target.implementation, target.architecture), (error) => `unknown: ${error.message}`),
  ]);
  return { kernel, qemu, toolchain: { native, ...(implementation ? { implementation } : {}) } };
}
