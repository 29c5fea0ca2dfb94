/**
 * CPython's own spawn paths (impls/python/driver.py): subprocess.Popen on
 * its vfork path (_posixsubprocess) and on its posix_spawn path, and
 * os.posix_spawn, run by a CPython release of the registry
 * (`--impl python@3.11|3.13|3.14`, the bare name 3.11) inside that
 * release's own userland: python3.X-minimal and its dependency closure for
 * the target, pinned in runtimes.lock.json and unpacked by ensureRelease.
 * Or by a maintainer's own CPython (`--python DIR`, harness/build/python-tree.ts),
 * planned for its interpreter's architecture only, with the loader and
 * libraries of the release of its 3.X. The machine's own Python is never used.
 */
import { join } from "node:path";
import { architectures, findArchitecture } from "../../src/architectures.ts";
import type { ImplementationSpec } from "../../src/implementation-spec.ts";
import { findRelease, releaseName, upstreamVersion, type RuntimeRelease } from "../../src/runtime-releases.ts";
import { pythonTreeDigest, pythonTreeOf } from "../build/python-tree.ts";
import { projectRoot } from "../process/project-root.ts";
import { userlandLoaderCheck } from "../process/userland.ts";
import { ensureRelease, pinnedPackage, ReleaseUnavailableError } from "../toolchain/runtime-releases.ts";
import { TargetUnavailableError, type ImplementationAdapter, shellWord } from "./adapter.ts";

const driverScript = join(projectRoot, "impls", "python", "driver.py");

function releaseOf(spec: ImplementationSpec): RuntimeRelease {
  const release = findRelease("python", spec.version);
  if (release === undefined) throw new Error(`python has no release ${spec.version} (src/runtime-releases.ts)`);
  return release;
}

/** The registry's release of a tree's 3.X, whose userland it runs in; undefined when the table has none. */
function releaseOfTree(root: string): RuntimeRelease | undefined {
  return findRelease("python", pythonTreeOf(root).minor);
}

export const pythonImplementation: ImplementationAdapter = {
  name: "python",
  tiers: ["host", "user", "system"],
  // A VM's /driver names a program of the userland; a maintainer's own build is outside it.
  tiersOf: (spec) => (spec.pythonRoot ? ["host", "user"] : ["host", "user", "system"]),
  whyNotOtherTiers: "a maintainer's own build is outside the release's userland, and only a program of the userland reaches a VM",
  takesDefines: false,
  architecturesOf: (spec) => (spec.pythonRoot ? [pythonTreeOf(spec.pythonRoot).architecture] : architectures.map((architecture) => architecture.name)),
  validate: (spec) => void (spec.pythonRoot && pythonTreeOf(spec.pythonRoot)),
  replayOptions: (spec) => (spec.pythonRoot ? ` --python ${shellWord(spec.pythonRoot)}` : ` --impl python${spec.version ? `@${spec.version}` : ""}`),
  label: (spec) => (spec.pythonRoot ? `python@${spec.pythonRoot}` : spec.version ? `python@${spec.version}` : "python"),
  // The upstream version of the pinned interpreter ("3.11.2"), what a finding's pattern names; a tree's own, marked as a local build.
  version: async (spec) => {
    if (spec.pythonRoot) return `${pythonTreeOf(spec.pythonRoot).version ?? pythonTreeOf(spec.pythonRoot).minor} (local build)`;
    const pinned = pinnedPackage(releaseOf(spec));
    return pinned ? upstreamVersion(pinned.version) : releaseOf(spec).version;
  },
  driverCommand: async (spec, architecture) => {
    try {
      if (spec.pythonRoot) {
        const tree = pythonTreeOf(spec.pythonRoot);
        const release = releaseOfTree(spec.pythonRoot);
        const userland = release ? (await ensureRelease(release, architecture)).root : undefined;
        return { program: tree.interpreter, args: [driverScript, "--driver"], ...(userland ? { userland, ...userlandLoaderCheck(userland, tree.interpreter) } : {}) };
      }
      const release = releaseOf(spec);
      const { root } = await ensureRelease(release, architecture);
      const program = join(root, "usr", "bin", `python${release.version}`);
      return { program, args: [driverScript, "--driver"], userland: root, ...userlandLoaderCheck(root, program) };
    } catch (error) {
      if (error instanceof ReleaseUnavailableError) throw new TargetUnavailableError(error.message);
      throw error;
    }
  },
  requiredTools: () => [],
  installForTests: async () => void (await ensureRelease(releaseOf({ name: "python" }), findArchitecture("amd64")!)),
  toolchain: async (spec) => {
    if (spec.pythonRoot) {
      const tree = pythonTreeOf(spec.pythonRoot);
      const release = releaseOfTree(spec.pythonRoot);
      return `python tree ${tree.root} (${tree.version ?? tree.minor}, sha256:${pythonTreeDigest(tree).slice(0, 16)}), ${release ? `the loader and libraries of ${releaseName(release)}` : "this machine's loader and libraries"}`;
    }
    const release = releaseOf(spec);
    const pinned = pinnedPackage(release);
    return `${releaseName(release)}: ${pinned ? `${pinned.package} ${pinned.version}` : `python${release.version}`} (${release.suite}), subprocess.Popen and os.posix_spawn`;
  },
};
