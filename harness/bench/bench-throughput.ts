/**
 * Throughput benchmark: cases per second per target with the long-lived
 * driver, beside one driver process per case, on the same cases in the same
 * run.
 *
 *   node --import=tsx harness/bench/bench-throughput.ts    (npm run bench:throughput)
 *
 * Both modes run the same driver binary with the same command (natively, or
 * `qemu-<arch> driver --driver`) and neither has an observer: startTarget
 * adds strace / qemu -strace, which would weigh on both modes differently, so
 * the long-lived mode is driven here directly through the protocol too.
 * The two modes alternate in blocks, several rounds per target; the report
 * gives the min and median cases per second over the rounds and the ratio of
 * the medians (long-lived / one process per case).
 *
 * Writes reports/throughput.json and prints a table. Every driver started
 * here is reaped (or killed with its descendants) before exit and the
 * fixtures are removed.
 */
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import fc from "fast-check";
import { findArchitecture, type Architecture, type ArchitectureName } from "../../src/architectures.ts";
import { spawnCaseArbitrary, type CaseShape } from "../../src/arbitraries/spawn-case.ts";
import { encodeCase, parseHello, parseResult, type Hello } from "../../src/protocol.ts";
import type { SpawnCase } from "../../src/spawn-case.ts";
import { buildNative } from "../build/build.ts";
import { createFixtures, type Fixtures } from "../build/fixtures.ts";
import { expectLine, killLiveDrivers, startDriverProcess, stopDriver, type DriverProcess } from "../targets/driver-process.ts";
import { projectRoot } from "../process/project-root.ts";
import { descendantsOf } from "../process/process-tree.ts";
import { median as medianOf } from "../../src/statistics.ts";
import { formatTable, writeJsonReport } from "../run/report-output.ts";
import { onCleanup } from "../process/run-cleanup.ts";
import type { TierName } from "../../src/tiers.ts";
import { qemuUserBinary } from "../toolchain/qemu-user.ts";

interface BenchTarget {
  arch: ArchitectureName;
  tier: TierName;
  cases: number;
}

const benchTargets: readonly BenchTarget[] = [
  { arch: "amd64", tier: "host", cases: 200 },
  { arch: "arm64", tier: "user", cases: 100 },
  { arch: "s390x", tier: "user", cases: 100 },
];
const ROUNDS = 5;
const SEED = 20240611;
/** Deadlines per case, generous: only a hang reaches them. */
const caseDeadlineMs = (tier: TierName): number => (tier === "host" ? 15_000 : 60_000);

/** Simple cases: the exec target, small environment, no namespaces, no sessions, no parent memory. */
const shape: CaseShape = {
  paths: ["exec-target"],
  directories: ["none"],
  newUser: "none",
  namespaces: false,
  environment: "small",
  sessions: false,
};

/** Every fixtures directory made here, removed at the end. */
const allFixtures: Fixtures[] = [];

function cleanUp(): void {
  killLiveDrivers();
  for (const fixtures of allFixtures.splice(0)) fixtures.remove();
}

function command(architecture: Architecture, tier: TierName, driver: string): [string, string[]] {
  return tier === "host" ? [driver, ["--driver"]] : [qemuUserBinary(architecture), [driver, "--driver"]];
}

function startDriver(cmd: [string, string[]], fixtures: Fixtures): DriverProcess {
  return startDriverProcess(cmd[0], cmd[1], { cwd: fixtures.fixturesDirectory });
}

let nextId = 1;

async function answerCase(driver: DriverProcess, spawnCase: SpawnCase, fixtures: Fixtures, tier: TierName): Promise<void> {
  const id = nextId++;
  driver.child.stdin.write(`${encodeCase(id, spawnCase, fixtures)}\n`);
  const result = parseResult(await expectLine(driver, `result for case ${id}`, caseDeadlineMs(tier)));
  if (result.id !== id) throw new Error(`answer for case ${result.id}, expected ${id}`);
  if (result.outcome !== "spawned" || result.status === undefined || !("exited" in result.status) || result.status.exited !== 0) {
    throw new Error(`case ${id} did not spawn the exec target cleanly: ${JSON.stringify({ outcome: result.outcome, errno: result.errno, status: result.status })}`);
  }
}

/** Long-lived: one driver, cases written one after another; times only the cases. */
async function runLongLived(cmd: [string, string[]], fixtures: Fixtures, cases: readonly SpawnCase[], tier: TierName): Promise<number> {
  const driver = startDriver(cmd, fixtures);
  try {
    parseHello(await expectLine(driver, "hello", caseDeadlineMs(tier)));
    const start = performance.now();
    for (const spawnCase of cases) await answerCase(driver, spawnCase, fixtures, tier);
    const seconds = (performance.now() - start) / 1000;
    return cases.length / seconds;
  } finally {
    await stopDriver(driver);
  }
}

/** One process per case: start, hello, one case, close stdin, wait for exit; all timed. */
async function runOneProcessPerCase(cmd: [string, string[]], fixtures: Fixtures, cases: readonly SpawnCase[], tier: TierName): Promise<number> {
  const start = performance.now();
  for (const spawnCase of cases) {
    const driver = startDriver(cmd, fixtures);
    try {
      parseHello(await expectLine(driver, "hello", caseDeadlineMs(tier)));
      await answerCase(driver, spawnCase, fixtures, tier);
    } finally {
      await stopDriver(driver);
    }
  }
  const seconds = (performance.now() - start) / 1000;
  return cases.length / seconds;
}

/** One throwaway driver per target, for its hello (the descriptors a case must not ask for). */
async function helloOf(cmd: [string, string[]], fixtures: Fixtures, tier: TierName): Promise<Hello> {
  const driver = startDriver(cmd, fixtures);
  try {
    return parseHello(await expectLine(driver, "hello", caseDeadlineMs(tier)));
  } finally {
    await stopDriver(driver);
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0").filter(Boolean).join(" ").slice(0, 120);
  } catch {
    return "(gone)";
  }
}

const median = (values: readonly number[]): number => medianOf(values) ?? Number.NaN;
const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

interface Prepared {
  bench: BenchTarget;
  name: string;
  cmd: [string, string[]];
  fixtures: Fixtures;
  hello: Hello;
}

async function main(): Promise<void> {
  const began = performance.now();
  const hostExecTarget = await buildNative({ arch: "amd64", kind: "static" });
  const prepared: Prepared[] = [];
  try {
    for (const bench of benchTargets) {
      const architecture = findArchitecture(bench.arch);
      if (architecture === undefined) throw new Error(`unknown architecture ${bench.arch}`);
      const driverPath = await buildNative({ arch: bench.arch, kind: "static" });
      // As startTarget: on the host the driver execs itself; under qemu-user, the host's amd64 build.
      const fixtures = createFixtures(bench.tier === "host" ? driverPath : hostExecTarget);
      allFixtures.push(fixtures);
      const cmd = command(architecture, bench.tier, driverPath);
      prepared.push({ bench, name: `${bench.arch}/${bench.tier}`, cmd, fixtures, hello: await helloOf(cmd, fixtures, bench.tier) });
    }

    // The same cases everywhere: the first N of one fixed sample.
    const reserved = [...new Set(prepared.flatMap(({ hello }) => [hello.reportDescriptor, ...hello.inheritedDescriptors]))];
    const arbitrary = spawnCaseArbitrary(shape, { maxArgumentString: 128 * 1024, argumentSpace: 2 * 1024 * 1024, maxMemoryBytes: 0, reservedDescriptors: reserved });
    const allCases = fc.sample(arbitrary, { seed: SEED, numRuns: Math.max(...benchTargets.map((b) => b.cases)) });

    const results = [];
    const rows: string[][] = [];
    for (const { bench, name, cmd, fixtures } of prepared) {
      const cases = allCases.slice(0, bench.cases);
      const longLived: number[] = [];
      const perProcess: number[] = [];
      // Warm-up (page cache, qemu's first load), not counted.
      await runLongLived(cmd, fixtures, cases.slice(0, 5), bench.tier);
      await runOneProcessPerCase(cmd, fixtures, cases.slice(0, 5), bench.tier);
      for (let r = 0; r < ROUNDS; r++) {
        // Alternate which mode goes first in each round.
        if (r % 2 === 0) {
          longLived.push(await runLongLived(cmd, fixtures, cases, bench.tier));
          perProcess.push(await runOneProcessPerCase(cmd, fixtures, cases, bench.tier));
        } else {
          perProcess.push(await runOneProcessPerCase(cmd, fixtures, cases, bench.tier));
          longLived.push(await runLongLived(cmd, fixtures, cases, bench.tier));
        }
      }
      const ratio = median(longLived) / median(perProcess);
      process.stderr.write(`bench: ${name} done (${((performance.now() - began) / 1000).toFixed(1)} s)\n`);
      results.push({
        target: name,
        tier: bench.tier,
        cases: cases.length,
        long_lived_cases_per_second: round(median(longLived)),
        one_process_per_case_cases_per_second: round(median(perProcess)),
        ratio: round(ratio, 2),
        rounds: ROUNDS,
        long_lived_cases_per_second_min: round(Math.min(...longLived)),
        one_process_per_case_cases_per_second_min: round(Math.min(...perProcess)),
        long_lived_samples: longLived.map((v) => round(v)),
        one_process_per_case_samples: perProcess.map((v) => round(v)),
      });
      rows.push([
        name,
        String(cases.length),
        `${round(Math.min(...longLived))} / ${round(median(longLived))}`,
        `${round(Math.min(...perProcess))} / ${round(median(perProcess))}`,
        `${round(ratio, 2)}x`,
      ]);
    }

    const report = {
      date: new Date().toISOString(),
      machine: { cpus: availableParallelism(), cpu_model: cpus()[0]?.model ?? "unknown", node: process.version, load_average_1min_at_end: round(loadavg()[0]!, 2) },
      seed: SEED,
      note: "cases per second: median over rounds (min in *_min); no observer (strace / qemu -strace) in either mode",
      results,
    };
    writeJsonReport(join(projectRoot, "reports", "throughput.json"), report);
    console.log(formatTable(["target", "cases", "long-lived c/s (min / median)", "per-process c/s (min / median)", "ratio (medians)"], rows));
    console.log(`\n${ROUNDS} rounds, ${report.machine.cpus} cpus, node ${process.version}; ${((performance.now() - began) / 1000).toFixed(1)} s; wrote reports/throughput.json`);
  } finally {
    const directories = allFixtures.map((fixtures) => fixtures.fixturesDirectory);
    cleanUp();
    // tsx's esbuild service is node's own helper, not a process this benchmark started.
    const leftoverChildren = descendantsOf(process.pid)
      .map((pid) => `${pid} ${commandOf(pid)}`)
      .filter((entry) => !/\/esbuild --service=/.test(entry));
    const leftoverDirectories = directories.filter((directory) => existsSync(directory));
    process.stderr.write(`bench: cleanup: ${leftoverChildren.length} child processes left${leftoverChildren.length ? ` (${leftoverChildren.join(", ")})` : ""}, ${leftoverDirectories.length} fixture directories left\n`);
  }
}

// On a signal, run-cleanup removes the fixtures and kills every process this benchmark started.
onCleanup(cleanUp);

main().then(
  () => process.exit(0),
  (error: unknown) => {
    cleanUp();
    console.error(`bench-throughput: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
