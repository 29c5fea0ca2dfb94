/**
 * Hang-shrink benchmark: how long a mutant's killing property takes from
 * its start to its shrunk, confirmed counterexample (shrunk_s) on amd64/host,
 * idle and with a second gate running beside it, side by side in one run.
 *
 *   node --import=tsx harness/bench/bench-hang-shrink.ts [--rounds N]   (npm run bench:hang-shrink)
 *
 * Each round runs, for each mutant, `vforkcheck mutants --arch amd64 --tier
 * host --mutant M --runs 50 --seed 1` alone, then the same beside `vforkcheck
 * gate --arch amd64 --tier host` (started first and given time to load the
 * machine; started again should it end; killed with its children after).
 * vfork-with-newuser hangs in most of its cases, so every property that
 * kills it shrinks through hanging steps; unshare-newuser-ignored fails at
 * once, the contrast. The report gives, per mutant and condition, the
 * mutant's shrunk_s (its first killing property's, as `mutants` reports it),
 * the slowest killing property's, and the load average; and busy / idle.
 * Writes reports/hang-shrink.json and prints a table. On any exit the
 * mutants' and the gate's processes are stopped (SIGTERM, so that each
 * removes its own fixture directories; then SIGKILL to what is left of
 * their trees), and the temporary directory is removed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { UsageError } from "../../src/usage-error.ts";
import { isMainModule } from "../process/main-module.ts";
import { descendantsOf, waitUntilDead } from "../process/process-tree.ts";
import { nodeModuleArguments, projectRoot } from "../process/project-root.ts";
import { onCleanup } from "../process/run-cleanup.ts";
import { formatTable, writeJsonReport } from "../run/report-output.ts";
import type { MutantResult } from "../run/mutants.ts";

const benchMutants = ["vfork-with-newuser", "unshare-newuser-ignored"] as const;
const mutantArguments = ["--arch", "amd64", "--tier", "host", "--runs", "50", "--seed", "1"];
const besideArguments = ["gate", "--arch", "amd64", "--tier", "host", "--runs", "2000", "--seed", "2"];
/** How long the second gate runs before the measured one starts: past its builds and into its cases. */
const warmUpMs = 20_000;
/** One mutants run's deadline: ten properties, each shrinking a hang, on a loaded machine, with margin. */
const runDeadlineMs = 20 * 60_000;

type Condition = "idle" | "beside a gate";

interface Measurement {
  round: number;
  mutant: string;
  condition: Condition;
  killed_by: string[];
  /** The killing property that needed the fewest cases: the one `mutants` reports. */
  first_property: string | null;
  /** The first killing property's seconds from its start to its confirmed shrunk counterexample (as `mutants` reports it). */
  shrunk_s: number | null;
  /** The slowest killing property's, and which. */
  slowest_shrunk_s: number | null;
  slowest_property: string | null;
  /** Killing properties whose shrink its hang budget stopped (src/case-deadline.ts HangBudget). */
  stopped_by_budget: string[];
  /** The 1-minute load average when the run ended. */
  load_after: number;
  seconds: number;
}

const vforkcheckCommand = (args: readonly string[]) => [...nodeModuleArguments("harness/cli/vforkcheck.ts"), ...args];

/** A child started in its own process group, killed with its children on any exit of this one. */
function startChild(args: readonly string[], log: string): { child: ChildProcess; done: Promise<number | null>; kill(): void } {
  const child = spawn(process.execPath, vforkcheckCommand(args), { cwd: projectRoot, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => void (stderr = (stderr + chunk.toString("utf8")).slice(-4000)));
  let killed = false;
  const cleanup = onCleanup(() => {
    killed = true;
    // SIGTERM first: a vforkcheck run stopped so removes its fixture directories and stops its drivers; whatever of its
    // tree is left after that is killed.
    const tree = [child.pid!, ...descendantsOf(child.pid!)];
    try {
      process.kill(child.pid!, "SIGTERM");
    } catch {
      // Gone already.
    }
    waitUntilDead([child.pid!], 15_000);
    // Its descendants were reparented when it died: the snapshot taken before the SIGTERM names them.
    for (const pid of tree) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Gone already.
      }
    }
  });
  const done = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      cleanup.cancel();
      if (!killed && code !== 0 && code !== 1) process.stderr.write(`${log} exited ${code}: ${stderr.trim().split("\n").slice(-3).join(" | ")}\n`);
      resolve(code);
    }),
  );
  return { child, done, kill: () => cleanup.run() };
}

/** `vforkcheck mutants` for one mutant, within the run deadline; its report's result for amd64/host. */
async function runMutant(mutant: string, report: string): Promise<MutantResult> {
  const run = startChild(["mutants", "--mutant", mutant, ...mutantArguments, "--report", report], `mutants --mutant ${mutant}`);
  const timer = setTimeout(() => run.kill(), runDeadlineMs);
  const code = await run.done;
  clearTimeout(timer);
  const parsed = JSON.parse(readFileSync(report, "utf8")) as { results: MutantResult[] };
  const result = parsed.results.find((entry) => entry.mutant === mutant && entry.target === "amd64/host");
  if (!result) throw new Error(`mutants --mutant ${mutant} (exit ${code}) reported no amd64/host result in ${report}`);
  return result;
}

/** The second gate, kept running (started again when it ends) until stopped. */
function besideGate(directory: string): { stop(): Promise<void> } {
  let stopped = false;
  let current: ReturnType<typeof startChild> | undefined;
  const loop = (async () => {
    for (let n = 0; !stopped; n++) {
      current = startChild([...besideArguments, "--report", join(directory, `beside-${n}.json`)], "the gate beside");
      await current.done;
    }
  })();
  return {
    async stop() {
      stopped = true;
      current?.kill();
      await loop;
    },
  };
}

function measure(round: number, condition: Condition, result: MutantResult, seconds: number): Measurement {
  const killers = result.properties.filter((property) => property.status === "fail");
  const slowest = [...killers].sort((a, b) => (b.shrunk_s ?? 0) - (a.shrunk_s ?? 0))[0];
  return {
    round,
    mutant: result.mutant,
    condition,
    killed_by: result.by,
    first_property: [...killers].sort((a, b) => a.runs - b.runs)[0]?.property ?? null,
    shrunk_s: result.shrunk_s,
    slowest_shrunk_s: slowest?.shrunk_s ?? null,
    slowest_property: slowest?.property ?? null,
    stopped_by_budget: killers.filter((property) => property.reason.includes("budget for hangs")).map((property) => property.property),
    load_after: Math.round(loadavg()[0]! * 10) / 10,
    seconds,
  };
}

function parseRounds(argv: readonly string[]): number {
  if (argv.length === 0) return 1;
  if (argv.length === 2 && argv[0] === "--rounds" && /^[1-9]\d?$/.test(argv[1]!)) return Number(argv[1]);
  throw new UsageError(`unknown arguments '${argv.join(" ")}' (only --rounds N, 1-99)`);
}

const ratio = (busy: number | null | undefined, idle: number | null | undefined) => (busy != null && idle ? Math.round((busy / idle) * 100) / 100 : null);

export async function benchHangShrink(argv: readonly string[]): Promise<void> {
  const rounds = parseRounds(argv);
  const directory = mkdtempSync(join(tmpdir(), "vfc-hang-shrink-"));
  const removeDirectory = onCleanup(() => rmSync(directory, { recursive: true, force: true }));
  const measurements: Measurement[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const mutant of benchMutants) {
        for (const condition of ["idle", "beside a gate"] as const) {
          const beside = condition === "idle" ? undefined : besideGate(directory);
          if (beside) await new Promise((resolve) => setTimeout(resolve, warmUpMs));
          const started = Date.now();
          try {
            const result = await runMutant(mutant, join(directory, `${mutant}-${round}-${condition === "idle" ? "idle" : "busy"}.json`));
            measurements.push(measure(round, condition, result, Math.round((Date.now() - started) / 100) / 10));
          } finally {
            await beside?.stop();
          }
          const last = measurements.at(-1)!;
          process.stderr.write(`round ${round} ${mutant} ${condition}: ${last.first_property} shrunk ${last.shrunk_s} s (slowest ${last.slowest_property} ${last.slowest_shrunk_s} s), load ${last.load_after}\n`);
        }
      }
    }
  } finally {
    removeDirectory.run();
  }
  const rows = benchMutants.flatMap((mutant) =>
    Array.from({ length: rounds }, (_, i) => i + 1).map((round) => {
      const idle = measurements.find((m) => m.mutant === mutant && m.round === round && m.condition === "idle");
      const busy = measurements.find((m) => m.mutant === mutant && m.round === round && m.condition === "beside a gate");
      return {
        mutant,
        round,
        idle_shrunk_s: idle?.shrunk_s ?? null,
        busy_shrunk_s: busy?.shrunk_s ?? null,
        ratio: ratio(busy?.shrunk_s, idle?.shrunk_s),
        idle_slowest_s: idle?.slowest_shrunk_s ?? null,
        busy_slowest_s: busy?.slowest_shrunk_s ?? null,
        slowest_ratio: ratio(busy?.slowest_shrunk_s, idle?.slowest_shrunk_s),
      };
    }),
  );
  writeJsonReport(join(projectRoot, "reports", "hang-shrink.json"), { machine: { cpus: availableParallelism(), model: cpus()[0]?.model ?? "?" }, mutantArguments, besideArguments, rows, measurements });
  const show = (value: number | null) => (value === null ? "-" : String(value));
  process.stdout.write(
    `${formatTable(
      ["mutant", "round", "shrunk_s idle", "beside a gate", "ratio", "slowest idle", "slowest beside", "ratio"],
      rows.map((row) => [row.mutant, String(row.round), show(row.idle_shrunk_s), show(row.busy_shrunk_s), show(row.ratio), show(row.idle_slowest_s), show(row.busy_slowest_s), show(row.slowest_ratio)]),
    )}\n(shrunk_s: the mutant's first killing property, from its start to its confirmed shrunk counterexample; slowest: the slowest killing property's; wrote reports/hang-shrink.json)\n`,
  );
}

if (isMainModule(import.meta.url)) {
  benchHangShrink(process.argv.slice(2)).then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`bench-hang-shrink: ${(error as Error).message}\n`);
      process.exit(error instanceof UsageError ? 2 : 1);
    },
  );
}
