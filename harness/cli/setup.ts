/**
 * Makes sure the tools `npm run gate` needs are installed, installing only
 * what is missing. Silent when everything is there. (`npm test` runs
 * test/setup.ts, which calls this for the architectures test/requirements.json
 * lists and adds that table's releases and tools.)
 *
 *   node --import=tsx harness/cli/setup.ts [--system[=ARCH,...]] [--impl-tools]
 *   vforkcheck setup [--system[=ARCH,...]] [--impl-tools]   the same, from the package
 *
 * --system: also the system tier: its tools (systemTierTools), each
 * architecture's kernel and qemu-system (harness/toolchain/kernels.ts, cached after the
 * first run); --system=arm64,... only those architectures'.
 * --impl-tools: each implementation's own (installForTests): the default Go
 * release (fetched from the registry, no golang-go), python3 (the --impl-cmd
 * worked example) and the default glibc and musl releases for amd64 and arm64.
 * Exit status: 0 ready, 2 installing needs root (the command is printed) or
 * kernels.lock.json is malformed or stale (the line says what), 1 otherwise.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { InstallNeedsPrivilegesError } from "../toolchain/apt.ts";
import { architectures, findArchitecture, type Architecture } from "../../src/architectures.ts";
import { UsageError } from "../../src/usage-error.ts";
import { didYouMean } from "../../src/did-you-mean.ts";
import type { CommandSpec } from "../../src/option-table.ts";
import { ensureKernel, ensureQemuSystem } from "../toolchain/kernels.ts";
import { LockFileError } from "../../src/kernel-lock.ts";
import { isMainModule } from "../process/main-module.ts";
import { projectRoot } from "../process/project-root.ts";
import { installImplementationToolsForTests } from "../implementations/index.ts";
import { coreTools, systemTierTools } from "../toolchain/required-tools.ts";
import { ensureTools, setupLog } from "../toolchain/ensure-tools.ts";

/** The minimum from package.json's engines.node (">=20.19"), so it is stated once. */
function checkNodeVersion(): void {
  const manifest = JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as { engines: { node: string } };
  const minimum = /^>=\s*(\d+)\.(\d+)/.exec(manifest.engines.node);
  if (minimum === null) throw new Error(`cannot read engines.node "${manifest.engines.node}" in package.json`);
  const [major, minor] = process.versions.node.split(".").map(Number) as [number, number];
  const [needMajor, needMinor] = [Number(minimum[1]), Number(minimum[2])];
  if (major < needMajor || (major === needMajor && minor < needMinor)) {
    throw new Error(`node ${process.versions.node} is too old: vforkcheck needs node >= ${needMajor}.${needMinor}`);
  }
}

/** Each architecture's kernel and QEMU, fetched into the cache when not there yet. */
/** Kernels and QEMUs of these architectures; a line for each one downloaded, silence for the cached. */
async function ensureSystemTier(of: readonly Architecture[]): Promise<void> {
  for (const architecture of of) {
    const kernel = await ensureKernel(architecture);
    const qemu = await ensureQemuSystem(architecture);
    if (kernel.downloaded) setupLog(`${architecture.name}: kernel ${kernel.packageName} ${kernel.version} in ${kernel.path}; qemu ${qemu}`);
  }
}

/** The architectures of --system (all) or --system=LIST; undefined without it. */
function systemArchitectures(args: readonly string[]): Architecture[] | undefined {
  const flag = args.find((arg) => arg === "--system" || arg.startsWith("--system="));
  if (flag === undefined) return undefined;
  if (flag === "--system") return [...architectures];
  return flag.slice("--system=".length).split(",").map((name) => {
    const found = findArchitecture(name);
    if (found === undefined) throw new UsageError(`--system: unknown architecture '${name}' (known: ${architectures.map((a) => a.name).join(",")})`);
    return found;
  });
}

/**
 * `vforkcheck setup`'s options: its help and docs. Parsed by hand, not by
 * parseCommandLine: --system takes its value only after '=', and without
 * one means every architecture.
 */
export const setupCommandSpec: CommandSpec = {
  name: "setup",
  summary: "install the missing tools (apt packages, the pinned qemu-user), and with --system the kernels and QEMUs; silent when all is there",
  options: [
    { name: "--system", default: "off", description: "the system tier's too: each architecture's kernel and qemu-system; --system=ARCH,... only those", example: "--system=amd64,arm64" },
    { name: "--impl-tools", default: "off", description: "each implementation's own: the default Go, glibc and musl releases, python3", example: "--impl-tools" },
  ],
};

/** Installs what is missing; resolves with the exit status (the header's). */
export async function setup(args: readonly string[]): Promise<number> {
  const usage = "usage: vforkcheck setup [--system[=ARCH,...]] [--impl-tools]";
  const unknown = args.filter((arg) => arg !== "--system" && !arg.startsWith("--system=") && arg !== "--impl-tools");
  if (unknown.length > 0) {
    setupLog(`unknown argument ${unknown.join(" ")}${didYouMean(unknown[0]!, setupCommandSpec.options.map((option) => option.name))}; ${usage}`);
    return 2;
  }
  try {
    checkNodeVersion();
    const system = systemArchitectures(args);
    await ensureTools([...coreTools(), ...(system ? systemTierTools(system) : [])]);
    if (system) await ensureSystemTier(system);
    if (args.includes("--impl-tools")) await installImplementationToolsForTests();
    return 0;
  } catch (error) {
    setupLog(error instanceof Error ? error.message : String(error));
    return error instanceof InstallNeedsPrivilegesError || error instanceof UsageError || error instanceof LockFileError ? 2 : 1;
  }
}

if (isMainModule(import.meta.url)) process.exitCode = await setup(process.argv.slice(2));
