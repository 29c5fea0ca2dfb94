/**
 * Node's child_process, that is libuv's uv_spawn (impls/node/driver.ts), run
 * by a Node release of the registry (`--impl node@18|20|24`, the bare name
 * node@18) inside that release's own userland: nodejs, libnode, the system
 * libuv it links and the rest of its dependency closure for the target,
 * pinned in runtimes.lock.json and unpacked by ensureRelease. The libuv is
 * the release's, named in the report's toolchain. The machine's own Node
 * is never the implementation: it runs the harness.
 *
 * Debian's libnode reads its externalized builtins (acorn, undici,
 * cjs-module-lexer) from /usr/share/nodejs by absolute path, so on the host
 * tier the userland's /usr/share is laid over the machine's in the driver's
 * own mount namespace (DriverCommand's overlays).
 *
 * Or by a maintainer's own Node (`--node PATH`, harness/build/node-tree.ts),
 * planned for its executable's architecture only, with its own libuv.so.1
 * ahead of the userland's, on the host and user tiers.
 */
import { join } from "node:path";
import { architectures, findArchitecture } from "../../src/architectures.ts";
import type { ImplementationSpec } from "../../src/implementation-spec.ts";
import { findRelease, releaseName, releasesOf, upstreamVersion, type RuntimeRelease } from "../../src/runtime-releases.ts";
import { nodeDriverScript } from "../build/node-driver.ts";
import { nodeTreeDigest, nodeTreeOf, type NodeTree } from "../build/node-tree.ts";
import { projectRoot } from "../process/project-root.ts";
import { userlandLoaderCheck } from "../process/userland.ts";
import { ensureRelease, lockedRelease, pinnedPackage, ReleaseUnavailableError } from "../toolchain/runtime-releases.ts";
import { TargetUnavailableError, type ImplementationAdapter, shellWord } from "./adapter.ts";

function releaseOf(spec: ImplementationSpec): RuntimeRelease {
  const release = findRelease("node", spec.version);
  if (release === undefined) throw new Error(`node has no release ${spec.version} (src/runtime-releases.ts)`);
  return release;
}

/**
 * The registry release a --node executable runs with: the one whose libnode
 * it links (libnode.so.115 is a libnode115 package), else the newest (a
 * self-contained build needs only the newest glibc and libstdc++).
 */
function releaseOfTree(tree: NodeTree): RuntimeRelease {
  const releases = releasesOf("node");
  const linked = releases.find((release) => {
    const entry = lockedRelease(release, findArchitecture("amd64")!);
    return "packages" in entry && entry.packages.some((pinned) => pinned.package === `libnode${tree.libnodeSoname}`);
  });
  return linked ?? releases[releases.length - 1]!;
}

export const nodeImplementation: ImplementationAdapter = {
  name: "node",
  tiers: ["host", "user", "system"],
  // A VM's /driver names a program of the userland; a maintainer's own build is outside it.
  tiersOf: (spec) => (spec.nodeBinary ? ["host", "user"] : ["host", "user", "system"]),
  whyNotOtherTiers: "a maintainer's own build is outside the release's userland, and only a program of the userland reaches a VM",
  takesDefines: false,
  knownFindings: join(projectRoot, "impls", "node", "known-findings.json"),
  architecturesOf: (spec) => (spec.nodeBinary ? [nodeTreeOf(spec.nodeBinary).architecture] : architectures.map((architecture) => architecture.name)),
  validate: (spec) => void (spec.nodeBinary && nodeTreeOf(spec.nodeBinary)),
  replayOptions: (spec) => (spec.nodeBinary ? ` --node ${shellWord(spec.nodeBinary)}` : ` --impl node${spec.version ? `@${spec.version}` : ""}`),
  label: (spec) => (spec.nodeBinary ? `node@${spec.nodeBinary}` : spec.version ? `node@${spec.version}` : "node"),
  // The upstream version of the pinned nodejs ("18.20.4"), what a finding's pattern names;
  // a tree linking a release's libnode runs that release's JavaScript, marked as a local build.
  version: async (spec) => {
    if (spec.nodeBinary) {
      const tree = nodeTreeOf(spec.nodeBinary);
      const pinned = tree.libnodeSoname ? pinnedPackage(releaseOfTree(tree)) : undefined;
      return `${pinned ? upstreamVersion(pinned.version) : "unknown"} (local build)`;
    }
    const pinned = pinnedPackage(releaseOf(spec));
    return pinned ? upstreamVersion(pinned.version) : releaseOf(spec).version;
  },
  driverCommand: async (spec, architecture) => {
    try {
      const tree = spec.nodeBinary ? nodeTreeOf(spec.nodeBinary) : undefined;
      const { root } = await ensureRelease(tree ? releaseOfTree(tree) : releaseOf(spec), architecture);
      const program = tree?.executable ?? join(root, "usr", "bin", "node");
      const libraryPath = tree?.libuvDirectory ? [tree.libuvDirectory] : [];
      // --expose-gc: the memory benchmark's held heap is given back at once (HeldHeap).
      return { program, args: ["--expose-gc", await nodeDriverScript(), "--driver"], userland: root, overlays: ["/usr/share"], libraryPath, ...userlandLoaderCheck(root, program) };
    } catch (error) {
      if (error instanceof ReleaseUnavailableError) throw new TargetUnavailableError(error.message);
      throw error;
    }
  },
  requiredTools: () => [],
  installForTests: async () => void (await ensureRelease(releaseOf({ name: "node" }), findArchitecture("amd64")!)),
  toolchain: async (spec) => {
    if (spec.nodeBinary) {
      const tree = nodeTreeOf(spec.nodeBinary);
      const libuv = tree.libuvDirectory ? `its own ${join(tree.libuvDirectory, "libuv.so.1")}` : "the libuv it links";
      return `node ${tree.executable} (sha256:${nodeTreeDigest(tree).slice(0, 16)}), ${libuv}, the loader and libraries of ${releaseName(releaseOfTree(tree))}`;
    }
    const release = releaseOf(spec);
    const [node, libuv] = [pinnedPackage(release), pinnedPackage(release, "libuv1")];
    return `${releaseName(release)}: ${node ? `${node.package} ${node.version}` : "nodejs"}, ${libuv ? `${libuv.package} ${libuv.version}` : "libuv"} (${release.suite}), child_process.spawn`;
  },
};
