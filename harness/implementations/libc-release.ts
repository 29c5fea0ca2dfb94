/**
 * What the glibc and musl adapters share: a driver built against one pinned
 * release of the libc (harness/build/libc-driver.ts), chosen by
 * `--impl NAME@VERSION` (the bare name: the first release of
 * src/runtime-releases.ts). Each adapter file is this with its own name and
 * known findings; only the libc linked in differs.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { findArchitecture } from "../../src/architectures.ts";
import type { ImplementationSpec } from "../../src/implementation-spec.ts";
import { findRelease, releaseName, type RuntimeRelease } from "../../src/runtime-releases.ts";
import { buildLibcDriver, libcStartupCheckName, type LibcRuntime } from "../build/libc-driver.ts";
import { projectRoot } from "../process/project-root.ts";
import { clangVersion } from "../toolchain/clang.ts";
import { ensureRelease, ReleaseUnavailableError } from "../toolchain/runtime-releases.ts";
import { TargetUnavailableError, type ImplementationAdapter } from "./adapter.ts";

/** The architectures `setup --impl-tools` fetches the default release for: the ones the tests build. */
const testedArchitectures = ["amd64", "arm64"] as const;

function releaseOf(runtime: LibcRuntime, spec: ImplementationSpec): RuntimeRelease & { runtime: LibcRuntime } {
  const release = findRelease(runtime, spec.version);
  if (release === undefined) throw new Error(`${runtime} has no release ${spec.version} (src/runtime-releases.ts)`);
  return release as RuntimeRelease & { runtime: LibcRuntime };
}

export function libcReleaseImplementation(runtime: LibcRuntime, description: { entryPoint: string }): ImplementationAdapter {
  const knownFindings = join(projectRoot, "impls", runtime, "known-findings.json");
  return {
    name: runtime,
    tiers: ["host", "user", "system"],
    takesDefines: false,
    ...(existsSync(knownFindings) ? { knownFindings } : {}),
    replayOptions: (spec) => ` --impl ${spec.version ? `${runtime}@${spec.version}` : runtime}`,
    label: (spec) => (spec.version ? `${runtime}@${spec.version}` : runtime),
    // The release's version ("2.41", "1.2.5"): the package the driver was linked with is pinned to it by the lock.
    version: async (spec) => releaseOf(runtime, spec).version,
    driverCommand: async (spec, architecture) => {
      try {
        const program = await buildLibcDriver(releaseOf(runtime, spec), architecture);
        return { program, args: ["--driver"], startupCheck: join(dirname(program), libcStartupCheckName) };
      } catch (error) {
        if (error instanceof ReleaseUnavailableError) throw new TargetUnavailableError(error.message);
        throw error;
      }
    },
    // Everything comes from the registry through the private apt (ensureRelease), clang-19 and lld-19 are core tools.
    requiredTools: () => [],
    installForTests: async () => {
      for (const name of testedArchitectures) await ensureRelease(releaseOf(runtime, { name: runtime }), findArchitecture(name)!);
    },
    toolchain: async (spec) => `${releaseName(releaseOf(runtime, spec))} (${description.entryPoint}), ${(await clangVersion()).split("\n")[0]}`,
  };
}
