/**
 * CPython's own spawn paths (impls/python/driver.py): subprocess.Popen on
 * its vfork path (_posixsubprocess) and on its posix_spawn path, and
 * os.posix_spawn, run by a CPython release of the registry
 * (`--impl python@3.11|3.13|3.14`, the bare name 3.11) inside that
 * release's own userland: python3.X-minimal and its dependency closure for
 * the target, pinned in runtimes.lock.json and unpacked by ensureRelease.
 * The machine's own Python is never used.
 */
import { join } from "node:path";
import { architectures } from "../../src/architectures.ts";
import type { ImplementationSpec } from "../../src/implementation-spec.ts";
import { findArchitecture } from "../../src/architectures.ts";
import { findRelease, releaseName, type RuntimeRelease } from "../../src/runtime-releases.ts";
import { projectRoot } from "../process/project-root.ts";
import { ensureRelease, lockedRelease, ReleaseUnavailableError } from "../toolchain/runtime-releases.ts";
import { TargetUnavailableError, type ImplementationAdapter } from "./adapter.ts";

const driverScript = join(projectRoot, "impls", "python", "driver.py");

function releaseOf(spec: ImplementationSpec): RuntimeRelease {
  const release = findRelease("python", spec.version);
  if (release === undefined) throw new Error(`python has no release ${spec.version} (src/runtime-releases.ts)`);
  return release;
}

/** The interpreter's package as the lock pins it for amd64 ("3.11.2-6+deb12u8"): the exact release known findings match. */
function pinnedInterpreter(release: RuntimeRelease): { package: string; version: string } | undefined {
  const entry = lockedRelease(release, findArchitecture("amd64")!);
  return "packages" in entry ? entry.packages[0] : undefined;
}

export const pythonImplementation: ImplementationAdapter = {
  name: "python",
  tiers: ["host", "user"],
  whyNotOtherTiers: "its userland does not reach a VM yet: the system tier runs only static drivers",
  takesDefines: false,
  architecturesOf: () => architectures.map((architecture) => architecture.name),
  replayOptions: (spec) => ` --impl python${spec.version ? `@${spec.version}` : ""}`,
  label: (spec) => (spec.version ? `python@${spec.version}` : "python"),
  // The upstream version of the pinned interpreter ("3.11.2"), what a finding's pattern names.
  version: async (spec) => pinnedInterpreter(releaseOf(spec))?.version.replace(/^[0-9]+:/, "").split(/[-+~]/)[0] ?? releaseOf(spec).version,
  driverCommand: async (spec, architecture) => {
    const release = releaseOf(spec);
    try {
      const { root } = await ensureRelease(release, architecture);
      return { program: join(root, "usr", "bin", `python${release.version}`), args: [driverScript, "--driver"], userland: root };
    } catch (error) {
      if (error instanceof ReleaseUnavailableError) throw new TargetUnavailableError(error.message);
      throw error;
    }
  },
  requiredTools: () => [],
  installForTests: async () => void (await ensureRelease(releaseOf({ name: "python" }), findArchitecture("amd64")!)),
  toolchain: async (spec) => {
    const release = releaseOf(spec);
    const pinned = pinnedInterpreter(release);
    return `${releaseName(release)}: ${pinned ? `${pinned.package} ${pinned.version}` : `python${release.version}`} (${release.suite}), subprocess.Popen and os.posix_spawn`;
  },
};
