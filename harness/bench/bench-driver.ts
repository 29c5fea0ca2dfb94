/**
 * What answers the memory benchmark's `bench` lines (docs/protocol.md): an
 * implementation's driver started directly, without an observer, natively
 * or under qemu-user; a VM booted with it (system tier); or the reference
 * called through koffi inside a Node process of its own (in-process).
 */
import type { Architecture } from "../../src/architectures.ts";
import { parseHello, type Capabilities, type Hello } from "../../src/protocol.ts";
import { buildNative } from "../build/build.ts";
import { expectLine, startDriverProcess, stopDriver, type DriverProcess } from "../targets/driver-process.ts";
import { driverCommand } from "../implementations/index.ts";
import type { ImplementationSpec } from "../../src/implementation-spec.ts";
import { nodeModuleArguments, projectRoot } from "../process/project-root.ts";
import { startSystemTarget, type QemuSystemTarget } from "../targets/system-target.ts";
import type { TargetSpec } from "../targets/target.ts";
import type { TierName } from "../../src/tiers.ts";
import { qemuUserBinary } from "../toolchain/qemu-user.ts";

export type BenchDriverName = ImplementationSpec["name"] | "in-process";

/** Something that answers bench lines: a driver process (host, qemu-user) or a VM's driver. */
export interface BenchDriver {
  hello: Hello;
  /** A VM's own probe (system tier), read at boot. */
  capabilities?: Capabilities;
  exchange(line: string, deadlineMs: number): Promise<string>;
  close(): Promise<void>;
}

/** A driver process started directly (no observer), natively or under qemu-user. */
async function startProcessDriver(program: string, args: string[], cwd: string, env: Record<string, string> | undefined, tier: TierName, architecture: Architecture): Promise<BenchDriver> {
  const [command, commandArgs] = tier === "user" ? [qemuUserBinary(architecture), [program, ...args]] : [program, args];
  const driver: DriverProcess = startDriverProcess(command, commandArgs, { cwd, env });
  const hello = parseHello(await expectLine(driver, "hello", 60_000));
  return {
    hello,
    exchange: async (line, deadlineMs) => {
      driver.child.stdin.write(`${line}\n`);
      return expectLine(driver, "answer to a bench line", deadlineMs);
    },
    close: () => stopDriver(driver),
  };
}

function systemDriver(vm: QemuSystemTarget): BenchDriver {
  return { hello: vm.hello, capabilities: vm.capabilities, exchange: (line, deadlineMs) => vm.runLine(line, deadlineMs), close: () => vm.close() };
}

/**
 * The VM's memory for the benchmark: room for 4 GiB beside the kernel, within
 * what the machine model takes; 2 GiB on 32-bit machines, room for the 1 GiB
 * a 32-bit process holds here.
 */
export function systemMemoryMiB(architecture: Architecture): number {
  const wanted = architecture.name === "386" || architecture.name === "arm" ? 2048 : 5120;
  return Math.min(wanted, architecture.system.maxMemoryMiB ?? wanted);
}

export async function startBenchDriver(driverName: BenchDriverName, spec: TargetSpec, goroot: string | undefined): Promise<BenchDriver> {
  const { architecture, tier } = spec;
  if (driverName === "in-process") {
    const library = await buildNative({ arch: "amd64", kind: "shared" });
    return startProcessDriver(process.execPath, ["--expose-gc", ...nodeModuleArguments("harness/targets/in-process-driver.ts"), library, "--driver"], projectRoot, { PATH: process.env.PATH ?? "/usr/bin:/bin" }, "host", architecture);
  }
  const implementation: ImplementationSpec = driverName === "go" ? { name: "go", goroot } : ({ name: driverName } as ImplementationSpec);
  if (tier === "system") return systemDriver(await startSystemTarget(spec, implementation, 0, 600_000, systemMemoryMiB(architecture)));
  const command = await driverCommand(implementation, architecture, []);
  return startProcessDriver(command.program, command.args, command.cwd ?? projectRoot, command.env, tier, architecture);
}

