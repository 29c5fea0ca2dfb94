/**
 * System-tier benchmark: per architecture, the VM's boot time (qemu start
 * to the driver's hello), cases per second and qemu's peak memory, beside
 * the same cases on the user tier in the same run (ratio system / user).
 * Both tiers run as the gate runs them, each with its observer (init's
 * seccomp-filtered ptrace in the VM, qemu -strace on the user tier). Where
 * the time of the system tier goes, on the same cases, through test-only
 * switches of init (SystemVariant in harness/targets/target.ts):
 *   unobserved             the driver untraced and unfiltered: the observer's share
 *   virtio console         the protocol on a virtio console instead of the
 *                          serial line: the console's share
 *   virtio, unobserved     both
 * What remains is full-system emulation itself (QEMU's soft MMU, the
 * guest's page faults and context switches of each fork and exec).
 *
 *   node --import=tsx harness/bench/bench-system.ts [--arch LIST] [--runs N]   (npm run bench:system)
 *
 * One architecture at a time; its targets run the cases interleaved
 * (measureInterleaved). Writes reports/system.json and prints a table. */
import { performance } from "node:perf_hooks";
import { availableParallelism, cpus, loadavg } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { spawnCaseArbitrary, type CaseShape } from "../../src/arbitraries/spawn-case.ts";
import type { SpawnCase } from "../../src/spawn-case.ts";
import { isMainModule } from "../process/main-module.ts";
import { projectRoot } from "../process/project-root.ts";
import { UsageError } from "../../src/usage-error.ts";
import { parseOptions } from "../run/options.ts";
import { formatTable, writeJsonReport } from "../run/report-output.ts";
import { toolsFor } from "../implementations/index.ts";
import { ensureTools } from "../toolchain/ensure-tools.ts";
import { QemuSystemTarget, type MachineStatistics } from "../targets/system-target.ts";
import type { Target, TargetSpec } from "../targets/target.ts";
import { startTarget } from "../targets/start-target.ts";
import type { TierName } from "../../src/tiers.ts";

const SEED = 20261127;
/** Plain cases (the exec target, a small environment, 1 MiB of parent memory): what every spawn does. */
const shape: CaseShape = { paths: ["exec-target"], directories: ["none"], newUser: "none", namespaces: false, environment: "small", sessions: false };

/** Runs the cases on the target; returns the milliseconds they took. */
async function timeCases(target: Target, cases: readonly SpawnCase[]): Promise<number> {
  const started = performance.now();
  for (const spawnCase of cases) {
    const run = await target.runCase(spawnCase);
    if (run.failure || run.result === undefined) throw new Error(`${target.name}: a plain case failed: ${run.failure ?? "no result"}`);
  }
  return performance.now() - started;
}

/** Cases per interleaving round: every target runs each round in turn. */
const ROUND_CASES = 5;

/**
 * Cases per second of each target on the same cases. The targets are all
 * up at once and take the cases in rounds, one target after the other, so
 * a change of the host's load (other work on the two cores) falls on every
 * column alike and the ratios stay fair; the idle VMs cost little meanwhile.
 */
async function measureInterleaved(specs: readonly { spec: TargetSpec; optional: boolean }[], cases: readonly SpawnCase[]) {
  const targets: (Target | string)[] = [];
  try {
    for (const { spec, optional } of specs) {
      // A column of the breakdown that cannot run here (no virtio console module) says why; the others go on.
      targets.push(await startTarget(spec).catch((error: Error) => { if (optional) return error.message; throw error; }));
    }
    const running = targets.filter((target): target is Target => typeof target !== "string");
    for (const target of running) await timeCases(target, cases.slice(0, 3)); // warm-up, not counted
    const milliseconds = new Map(running.map((target) => [target, 0]));
    for (let start = 0; start < cases.length; start += ROUND_CASES) {
      for (const target of running) milliseconds.set(target, milliseconds.get(target)! + await timeCases(target, cases.slice(start, start + ROUND_CASES)));
    }
    return targets.map((target) => typeof target === "string" ? { error: target } : {
      rate: cases.length / (milliseconds.get(target)! / 1000),
      machine: target instanceof QemuSystemTarget ? target.machineStatistics() : undefined,
    });
  } finally {
    await Promise.all(targets.map((target) => typeof target === "string" ? undefined : target.close()));
  }
}

interface Measured { rate?: number; error?: string; machine?: MachineStatistics }

const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

async function main(args: string[]): Promise<number> {
  const options = parseOptions(args, ["--arch", "--runs"], { runs: 40 });
  const specs = options.architectures.map((architecture) => (tier: TierName): TargetSpec => ({ architecture, tier, inProcess: false, impl: "reference", defines: [] }));
  await ensureTools(toolsFor(options.architectures.map((architecture) => ({ tier: "system", architecture }))));
  const cases = fc.sample(
    spawnCaseArbitrary(shape, { maxArgumentString: 128 * 1024, argumentSpace: 256 * 1024, maxMemoryBytes: 0, reservedDescriptors: [0, 1, 2, 63] }),
    { seed: SEED, numRuns: options.runs },
  ).map((spawnCase) => ({ ...spawnCase, memoryBytes: 1 << 20 }));
  const results = [];
  const rows: string[][] = [];
  for (const at of specs) {
    const name = at("system").architecture.name;
    try {
      const hasVirtio = at("system").architecture.system.virtioSerial !== undefined;
      const variants = [
        { spec: at("user"), optional: false },
        { spec: at("system"), optional: false },
        { spec: { ...at("system"), systemVariant: { initMode: "unobserved" } } as TargetSpec, optional: false },
        ...(hasVirtio ? [{ spec: { ...at("system"), systemVariant: { console: "virtio" } } as TargetSpec, optional: true }, { spec: { ...at("system"), systemVariant: { console: "virtio", initMode: "unobserved" } } as TargetSpec, optional: true }] : []),
      ];
      const [user, system, unobserved, virtio, virtioUnobserved] = (await measureInterleaved(variants, cases)).map((measured) => ("error" in measured ? { rate: undefined, ...measured } : measured)) as [Measured, Measured, Measured, Measured?, Measured?];
      if (user.rate === undefined || system.rate === undefined || unobserved.rate === undefined) throw new Error("unreachable: the required columns throw");
      const machine = system.machine!;
      const userRate = user.rate;
      const ratio = (rate: number | undefined) => (rate === undefined ? undefined : round(rate / userRate, 3));
      results.push({
        arch: name,
        kernel: machine.kernel,
        qemu: machine.qemu,
        boot_seconds: round(machine.bootSeconds, 2),
        system_cases_per_second: round(system.rate, 2),
        user_cases_per_second: round(user.rate, 2),
        system_to_user_ratio: ratio(system.rate),
        // The breakdown: the same cases with init's observer off, and on a virtio console instead of the serial line.
        unobserved_cases_per_second: round(unobserved.rate, 2),
        unobserved_to_user_ratio: ratio(unobserved.rate),
        virtio_console_cases_per_second: virtio?.rate !== undefined ? round(virtio.rate, 2) : virtio?.error ?? "no virtio console on this machine (src/architectures.ts says why)",
        virtio_console_to_user_ratio: ratio(virtio?.rate),
        virtio_console_unobserved_cases_per_second: virtioUnobserved?.rate !== undefined ? round(virtioUnobserved.rate, 2) : undefined,
        virtio_console_unobserved_to_user_ratio: ratio(virtioUnobserved?.rate),
        qemu_peak_memory_mib: round(machine.peakMemoryBytes / 2 ** 20),
      });
      const shown = (rate: number | undefined) => (rate === undefined ? "-" : `${rate.toFixed(1)} (${(rate / userRate).toFixed(2)}x)`);
      rows.push([name, machine.bootSeconds.toFixed(1), user.rate.toFixed(1), shown(system.rate), shown(unobserved.rate), shown(virtio?.rate), shown(virtioUnobserved?.rate), `${Math.round(machine.peakMemoryBytes / 2 ** 20)}`]);
    } catch (error) {
      results.push({ arch: name, error: (error as Error).message });
      rows.push([name, "error", (error as Error).message.slice(0, 60)]);
    }
    process.stderr.write(`bench: ${name} done\n`);
  }
  writeJsonReport(join(projectRoot, "reports", "system.json"), {
    date: new Date().toISOString(),
    machine: { cpus: availableParallelism(), cpu_model: cpus()[0]?.model ?? "unknown", load_average_1min_at_end: round(loadavg()[0]!, 2) },
    seed: SEED,
    cases: cases.length,
    note: "boot: qemu start to the driver's hello; cases per second with each tier's observer; ratio = system / user on the same cases. Breakdown of the system tier (test-only switches of init): unobserved = the driver untraced and unfiltered; virtio console = the protocol on a virtio console (hvc0) instead of the serial line",
    results,
  });
  console.log(formatTable(["arch", "boot s", "user c/s", "system c/s (/user)", "unobserved", "virtio console", "virtio, unobserved", "qemu peak MiB"], rows));
  console.log("wrote reports/system.json");
  return results.some((result) => "error" in result) ? 1 : 0;
}

if (isMainModule(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`bench-system: ${(error as Error).message}\n`);
      process.exit(error instanceof UsageError ? 2 : 1);
    },
  );
}
