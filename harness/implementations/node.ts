/**
 * Node's own child_process (libuv), impls/node/driver.ts, in a Node process
 * of its own beside the harness's, on the host tier: it is this machine's Node.
 */
import { nodeModuleArguments, projectRoot } from "../process/project-root.ts";
import type { ImplementationAdapter } from "./adapter.ts";

export const nodeImplementation: ImplementationAdapter = {
  name: "node",
  tiers: ["host"],
  whyNotOtherTiers: "it is this machine's Node: it runs natively, on the host tier only",
  takesDefines: false,
  architectures: ["amd64"],
  replayOptions: () => " --impl node",
  label: () => "node",
  version: async () => process.version,
  // Its own process: its heap, process group and children are its own, and a crash or hang cannot take the harness down.
  // --expose-gc: the memory benchmark's held heap is given back at once (impls/node/heap-memory.ts).
  driverCommand: async () => ({ program: process.execPath, args: ["--expose-gc", ...nodeModuleArguments("impls/node/driver.ts"), "--driver"], cwd: projectRoot }),
  requiredTools: () => [],
  toolchain: async () => `node ${process.version}`,
};
