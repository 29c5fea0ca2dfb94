/** A made-up amd64/host target as the pure checks see it: a hello, measured capabilities that refuse nothing, errno names E<number> but for a few. */
import { findArchitecture } from "../../src/architectures.ts";
import type { TargetView } from "../../src/checks.ts";
import type { Capabilities, Hello } from "../../src/protocol.ts";
import type { SpawnCase } from "../../src/spawn-case.ts";

export const hello: Hello = { protocol: 1, impl: "reference", arch: "amd64", pid: 100, euid: 0, egid: 0, pgid: 100, sid: 7, cwd: "/f", inheritedDescriptors: [0, 1, 2], reportDescriptor: 63, features: [], signalContract: "posix", signalsKept: [] };
export const capabilities: Capabilities = { arch: "amd64", vforkSharesMemory: true, parentSuspended: false, kcmp: true, clone3Errno: 0, pageSize: 4096, maxArgumentString: 131072, stackLimit: 8 << 20, euid: 0, cloneErrno: {}, vforkErrno: {}, unshareErrno: {} };
export const amd64HostView: TargetView = {
  name: "amd64/host",
  capabilities,
  oracle: { architecture: findArchitecture("amd64")!, capabilities, hello, tier: "host", directories: { fixtures: "/f", root: "/", missing: "/m", "a-file": "/a", "name-too-long": "/n" } },
  errnoName: (value) => ({ 2: "ENOENT", 7: "E2BIG", 8: "ENOEXEC", 13: "EACCES", 22: "EINVAL" })[value] ?? `E${value}`,
};

/** A case that spawns the exec target with nothing else asked. */
export const plainCase: SpawnCase = { path: "exec-target", argv: ["child"], env: [], cwd: "none", cloneFlags: 0, unshareFlags: 0, setsid: false, setpgid: false, descriptors: [], uidInside: 0, gidInside: 0, memoryBytes: 0, signalStorm: false };
