/**
 * System-tier benchmark: per architecture, the VM's boot time (qemu start
 * to the driver's hello), cases per second and qemu's peak memory, beside
 * the same cases on the user tier in the same run (ratio system / user).
 * Both tiers run as the gate runs them, each with its observer (ptrace in
 * the VM, qemu -strace on the user tier).
 *
 *   node --import=tsx harness/bench-system.ts [--arch LIST] [--cases N]   (npm run bench:system)
 *
 * One target at a time, so the two cores are not shared between the
 * measured VM and another. Writes reports/system.json and prints a table.
 */
import { performance } from "node:perf_hooks";
import { availableParallelism, cpus, loadavg } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { spawnCaseArbitrary, type CaseShape } from "../src/arbitraries/spawn-case.ts";
import type { SpawnCase } from "../src/spawn-case.ts";
import { isMainModule } from "./main-module.ts";
import { projectRoot } from "./native-sources.ts";
import { parseOptions, UsageError } from "./options.ts";
import { formatTable, writeJsonReport } from "./report-output.ts";
import { toolsFor } from "./required-tools.ts";
import { ensureTools } from "./setup.ts";
import { QemuSystemTarget } from "./system-target.ts";
import { startTarget, type Target, type TargetSpec, type TierName } from "./targets.ts";

const SEED = 20261127;
/** Plain cases (the exec target, a small environment, 1 MiB of parent memory): what every spawn does. */
const shape: CaseShape = { paths: ["exec-target"], directories: ["none"], newUser: "none", namespaces: false, environment: "small", sessions: false };

async function casesPerSecond(target: Target, cases: readonly SpawnCase[]): Promise<number> {
  const started = performance.now();
  for (const spawnCase of cases) {
    const run = await target.runCase(spawnCase);
    if (run.failure || run.result === undefined) throw new Error(`${target.name}: a plain case failed: ${run.failure ?? "no result"}`);
  }
  return cases.length / ((performance.now() - started) / 1000);
}

async function measure(spec: TargetSpec, cases: readonly SpawnCase[]) {
  const target = await startTarget(spec);
  try {
    await casesPerSecond(target, cases.slice(0, 3)); // warm-up, not counted
    const rate = await casesPerSecond(target, cases);
    return { rate, machine: target instanceof QemuSystemTarget ? target.machineStatistics() : undefined };
  } finally {
    await target.close();
  }
}

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
      const system = await measure(at("system"), cases);
      const unobserved = await measure({ ...at("system"), systemVariant: { initMode: "unobserved" } }, cases);
      const user = await measure(at("user"), cases);
      const machine = system.machine!;
      results.push({
        arch: name,
        kernel: machine.kernel,
        qemu: machine.qemu,
        boot_seconds: round(machine.bootSeconds, 2),
        system_cases_per_second: round(system.rate, 2),
        system_unobserved_cases_per_second: round(unobserved.rate, 2),
        user_cases_per_second: round(user.rate, 2),
        system_to_user_ratio: round(system.rate / user.rate, 3),
        system_unobserved_to_user_ratio: round(unobserved.rate / user.rate, 3),
        observer_cost: round(1 - system.rate / unobserved.rate, 3),
        qemu_peak_memory_mib: round(machine.peakMemoryBytes / 2 ** 20),
      });
      const ratio = (rate: number) => `${(rate / user.rate).toFixed(2)}x`;
      rows.push([name, machine.bootSeconds.toFixed(1), system.rate.toFixed(2), unobserved.rate.toFixed(2), user.rate.toFixed(2), ratio(system.rate), ratio(unobserved.rate), `${Math.round(machine.peakMemoryBytes / 2 ** 20)}`]);
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
    note: "boot: qemu start to the driver's hello; cases per second with each tier's observer; ratio = system / user on the same cases",
    results,
  });
  console.log(formatTable(["arch", "boot s", "system c/s", "unobserved c/s", "user c/s", "system/user", "unobserved/user", "qemu peak MiB"], rows));
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
