/**
 * What the glibc and musl adapters share: a driver built against one pinned
 * release of the libc (harness/build/libc-driver.ts), chosen by
 * `--impl NAME@VERSION` (the bare name: the first release of
 * src/runtime-releases.ts), or against the maintainer's own installed trees
 * (`--impl NAME --libc-root DIR` or `ARCH=DIR,...`: harness/build/libc-root.ts),
 * whose architectures are the only ones planned. Each adapter file is this
 * with its own name and known findings; only the libc linked in differs.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { architectures, findArchitecture } from "../../src/architectures.ts";
import type { ImplementationSpec } from "../../src/implementation-spec.ts";
import { findRelease, releaseName, type RuntimeRelease } from "../../src/runtime-releases.ts";
import { buildLibcDriver, libcStartupCheckName, type LibcRuntime } from "../build/libc-driver.ts";
import { buildLibcTreeDriver, libcTreeDigest, libcTreeFor, libcTreesOf, libcTreeVersion, supportRelease } from "../build/libc-root.ts";
import { projectRoot } from "../process/project-root.ts";
import { clangVersion } from "../toolchain/clang.ts";
import { ensureRelease, ReleaseUnavailableError } from "../toolchain/runtime-releases.ts";
import { TargetUnavailableError, type DriverCommand, type ImplementationAdapter, shellWord } from "./adapter.ts";

/** The architectures `setup --impl-tools` fetches the default release for: the ones the tests build. */
const testedArchitectures = ["amd64", "arm64"] as const;

function releaseOf(runtime: LibcRuntime, spec: ImplementationSpec): RuntimeRelease & { runtime: LibcRuntime } {
  const release = findRelease(runtime, spec.version);
  if (release === undefined) throw new Error(`${runtime} has no release ${spec.version} (src/runtime-releases.ts)`);
  return release as RuntimeRelease & { runtime: LibcRuntime };
}

function withStartupCheck(program: string): DriverCommand {
  return { program, args: ["--driver"], startupCheck: join(dirname(program), libcStartupCheckName) };
}

/**
 * A tree's version for known findings: the one it states (glibc's
 * <features.h>, musl's libc.a), marked as a local build; "local build" alone
 * when it states none. Several trees: the versions they state, joined.
 */
function treeVersion(runtime: LibcRuntime, option: string): string {
  const stated = [...new Set(libcTreesOf(runtime, option).flatMap((tree) => libcTreeVersion(tree) ?? []))];
  return stated.length ? `${stated.join(",")} (local build)` : "local build";
}

export function libcReleaseImplementation(runtime: LibcRuntime, description: { entryPoint: string }): ImplementationAdapter {
  const knownFindings = join(projectRoot, "impls", runtime, "known-findings.json");
  return {
    name: runtime,
    tiers: ["host", "user", "system"],
    takesDefines: false,
    ...(existsSync(knownFindings) ? { knownFindings } : {}),
    // A release serves every architecture the lock has; trees only their own.
    architecturesOf: (spec) => (spec.libcRoot ? libcTreesOf(runtime, spec.libcRoot).map((tree) => tree.architecture) : architectures.map((architecture) => architecture.name)),
    validate: (spec) => void (spec.libcRoot && libcTreesOf(runtime, spec.libcRoot)),
    replayOptions: (spec) => (spec.libcRoot ? ` --impl ${runtime} --libc-root ${shellWord(spec.libcRoot)}` : ` --impl ${spec.version ? `${runtime}@${spec.version}` : runtime}`),
    label: (spec) => (spec.libcRoot ? `${runtime}@${spec.libcRoot}` : spec.version ? `${runtime}@${spec.version}` : runtime),
    // The release's version ("2.41", "1.2.5"): the package the driver was linked with is pinned to it by the lock.
    version: async (spec) => (spec.libcRoot ? treeVersion(runtime, spec.libcRoot) : releaseOf(runtime, spec).version),
    driverCommand: async (spec, architecture) => {
      try {
        if (spec.libcRoot) return withStartupCheck((await buildLibcTreeDriver(libcTreeFor(runtime, spec.libcRoot, architecture.name), architecture)).program);
        return withStartupCheck(await buildLibcDriver(releaseOf(runtime, spec), architecture));
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
    toolchain: async (spec, architecture) => {
      const compiler = (await clangVersion()).split("\n")[0];
      if (!spec.libcRoot) return `${releaseName(releaseOf(runtime, spec))} (${description.entryPoint}), ${compiler}`;
      const tree = libcTreeFor(runtime, spec.libcRoot, architecture.name);
      const support = supportRelease(architecture);
      return `${runtime} tree ${tree.root} (${libcTreeVersion(tree) ?? "no version stated"}, sha256:${libcTreeDigest(tree).slice(0, 16)}; ${description.entryPoint}), kernel headers and libgcc of ${support ? releaseName(support) : "no release"}, ${compiler}`;
    },
  };
}
