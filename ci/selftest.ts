/**
 * `npm run bench:selftest`: how long `npm test` and `npm run gate -- --seed 1`
 * take, each with a fresh (empty) cache and then with the same cache warm,
 * judged against the goals of src/selftest.ts, in reports/selftest.json
 * (docs/selftest.md describes it). As root.
 *
 *   npm run bench:selftest [-- --dry-run] [--keep] [--only LIST] [--report FILE]
 *                             [--deadline-factor N] [--keep-packages] [--command NAME='SHELL COMMAND']...
 *
 * fresh-test  ci:fresh's flow (ci/fresh-machine.ts): set-up's Debian packages
 *             removed, this checkout's HEAD cloned into a temporary
 *             directory, `bash .ci/run` there with empty caches (cache A)
 * warm-test   `npm test` in that clone, cache A again
 * fresh-gate  `npm run gate -- --seed 1` in that clone, an empty cache B
 * warm-gate   the same, cache B again
 *
 * Each run streams its output (with the time since its start) to stdout and
 * to one log file, and has a deadline (--deadline-factor times its goal, 4 by
 * default) after which its process group is killed. The report is written
 * after every run, so a run already made is never lost, and on SIGINT/SIGTERM
 * with the run in progress marked stopped. Exit 0 when every run made met
 * its goal, 1 otherwise, 2 on bad arguments or when not root.
 *
 * --only runs some of them (a clone without the fresh-test gets an untimed
 * `npm ci` first). --keep-packages (no package removed) and --command (another
 * command for a run) try the flow quickly: such runs are marked
 * "standard": false in the report. --keep leaves the clone and caches.
 */
import { createWriteStream, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { isMainModule } from "../harness/process/main-module.ts";
import { projectRoot as projectRootSlash } from "../harness/process/project-root.ts";
import { onCleanup } from "../harness/process/run-cleanup.ts";
import { makeDirectories } from "../harness/run/report-output.ts";
import { freshEnvironment, type RemovalPlan } from "../src/fresh-machine.ts";
import { formatTable } from "../src/result-table.ts";
import { avaRuns, gateTimes, judgeRun, selftestGoals, selftestRuns, timeline, type AvaRunTimes, type GateTimes, type SelftestRunName, type TimedLine, type TimelineEntry } from "../src/selftest.ts";
import { UsageError } from "../src/usage-error.ts";
import { cacheVariables, cloneCommit, describeRemoval, emptyCaches, headCommit, logFile, parseCommandLine, planRemoval, rootCommandStart, removePackages, temporaryRoot } from "./fresh-machine.ts";
import { runStreamed } from "./run-streamed.ts";

const projectRoot = projectRootSlash.replace(/\/$/, "");

/** One timed run as the report keeps it (docs/selftest.md). */
export interface RunRecord {
  name: SelftestRunName;
  command: string;
  /** false when --command replaced the run's command or --keep-packages kept the packages: not a measurement. */
  standard: boolean;
  /** "A" for the tests, "B" for the gate; fresh: empty when the run started. */
  cache: string;
  fresh: boolean;
  goal_s: number;
  deadline_s: number;
  /** Absent when the run was not made (not_run says why). */
  status?: number | null;
  signal?: string | null;
  timed_out?: boolean;
  wall_s?: number;
  met: boolean;
  verdict: string;
  not_run?: string;
  /** Milestones of its output, each with the seconds until the next (docs/selftest.md). */
  timeline?: TimelineEntry[];
  ava?: AvaRunTimes[];
  gate?: GateTimes;
}

export interface SelftestReport {
  commit: string;
  /** The checkout had uncommitted changes; the clone ran the commit only. */
  dirty: boolean;
  started: string;
  machine: { cpus: number; memory_gib: number; kernel: string };
  goals_s: Record<SelftestRunName, number>;
  /** What the fresh-test removed before it ran (absent with --keep-packages or without the fresh-test). */
  packages?: { removed: string[]; autoremoved: string[]; removal_s: number };
  log: string;
  /** Set while runs are still to come or when it was stopped. */
  partial?: boolean;
  runs: RunRecord[];
  /** Every run made met its goal, and all four were made. */
  met: boolean;
}

interface Options {
  dryRun: boolean;
  keep: boolean;
  only: SelftestRunName[];
  report: string;
  deadlineFactor: number;
  keepPackages: boolean;
  commands: Partial<Record<SelftestRunName, string>>;
}

const usage = "usage: npm run bench:selftest [-- --dry-run] [--keep] [--only LIST] [--report FILE] [--deadline-factor N] [--keep-packages] [--command NAME='SHELL COMMAND']...";

function parseArgs(args: readonly string[]): Options {
  const { values } = parseCommandLine(args, usage, {
    "dry-run": { type: "boolean" }, keep: { type: "boolean" }, "keep-packages": { type: "boolean" },
    only: { type: "string" }, report: { type: "string" }, "deadline-factor": { type: "string" }, command: { type: "string", multiple: true },
  });
  const runName = (name: string, option: string): SelftestRunName => {
    if (!(selftestRuns as readonly string[]).includes(name)) throw new UsageError(`${option}: unknown run '${name}' (runs: ${selftestRuns.join(",")})`);
    return name as SelftestRunName;
  };
  const only = values.only === undefined ? [...selftestRuns] : values.only.split(",").map((name) => runName(name, "--only"));
  const deadlineFactor = values["deadline-factor"] === undefined ? 4 : Number(values["deadline-factor"]);
  if (!(deadlineFactor > 0)) throw new UsageError(`--deadline-factor: a positive number; ${usage}`);
  const commands: Partial<Record<SelftestRunName, string>> = {};
  for (const text of values.command ?? []) {
    const equals = text.indexOf("=");
    if (equals < 0) throw new UsageError(`--command: NAME='SHELL COMMAND', NAME one of ${selftestRuns.join(",")}`);
    commands[runName(text.slice(0, equals), "--command")] = text.slice(equals + 1);
  }
  return {
    dryRun: values["dry-run"] === true, keep: values.keep === true, keepPackages: values["keep-packages"] === true,
    only: selftestRuns.filter((name) => only.includes(name)), report: values.report ?? join(projectRoot, "reports", "selftest.json"), deadlineFactor, commands,
  };
}

/** The standard command of each run, as a shell would be given it. */
const standardCommands: Record<SelftestRunName, string> = {
  "fresh-test": "bash .ci/run",
  "warm-test": "npm test",
  "fresh-gate": "npm run gate -- --seed 1",
  "warm-gate": "npm run gate -- --seed 1",
};

const cacheOf = (name: SelftestRunName) => (name.endsWith("-test") ? "A" : "B");

/** Written whole, then renamed: a reader, or a kill in the middle, never sees half a report. */
function writeReport(file: string, report: SelftestReport): void {
  makeDirectories(dirname(file));
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(report, null, 2)}\n`);
  renameSync(temporary, file);
}

export async function selftest(args: readonly string[]): Promise<number> {
  const { options, say } = rootCommandStart("bench:selftest", args, parseArgs);
  if (options === undefined) return 2;
  const { commit, dirty } = headCommit();
  const runs = options.only;
  const removes = runs.includes("fresh-test") && !options.keepPackages && options.commands["fresh-test"] === undefined;
  const plan: RemovalPlan | undefined = removes ? planRemoval() : undefined;
  const commandOf = (name: SelftestRunName) => options.commands[name] ?? standardCommands[name];
  const deadlineOf = (name: SelftestRunName) => Math.round(selftestGoals[name] * options.deadlineFactor);

  if (options.dryRun) {
    say("dry run: nothing is removed, cloned or run");
    if (plan) describeRemoval(plan, say, true);
    else say("no package would be removed");
    const root = "/tmp/vforkcheck-selftest-XXXXXX";
    say(`would clone ${projectRoot} at ${commit} (HEAD) into ${root}/checkout${dirty ? "; uncommitted changes are not in it" : ""}${runs.includes("fresh-test") ? "" : ", then npm ci there (untimed)"}`);
    for (const name of runs) {
      const cache = cacheVariables(join(root, `cache-${cacheOf(name)}`));
      say(`would run ${name}: ${commandOf(name)} (CI=true, cache ${cacheOf(name)} ${name.startsWith("fresh") ? "empty" : "warm"}: VFORKCHECK_CACHE=${cache.VFORKCHECK_CACHE}; goal ${selftestGoals[name]} s, deadline ${deadlineOf(name)} s)`);
    }
    say(`would write ${options.report} after each run${options.keep ? `; would keep ${root}` : `; would remove ${root} at the end`}`);
    return 0;
  }

  const log = logFile("selftest");
  const logStream = createWriteStream(log);
  say(`log: ${log}; report: ${options.report}`);
  const report: SelftestReport = {
    commit,
    dirty,
    started: new Date().toISOString(),
    machine: { cpus: cpus().length, memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10, kernel: release() },
    goals_s: selftestGoals,
    log,
    partial: true,
    runs: [],
    met: false,
  };
  const save = () => {
    report.met = report.runs.length === selftestRuns.length && report.runs.every((run) => run.met);
    writeReport(options.report, report);
  };
  let current: { name: SelftestRunName; started: number; lines: TimedLine[] } | undefined;
  // Stopped by a signal: the runs made are written, and the one in progress is said to be stopped, with its timeline so far.
  const stopped = onCleanup(() => {
    if (current) {
      const ms = Date.now() - current.started;
      report.runs.push({ ...recordBase(current.name), met: false, verdict: `stopped by a signal after ${Math.round(ms / 1000)} s`, not_run: "stopped", timeline: timeline(current.lines, ms) });
    }
    save();
    say(`stopped; report: ${options.report}`);
  });

  const recordBase = (name: SelftestRunName) => ({
    name,
    command: commandOf(name),
    standard: options.commands[name] === undefined && !(name === "fresh-test" && options.keepPackages),
    cache: cacheOf(name),
    fresh: name.startsWith("fresh"),
    goal_s: selftestGoals[name],
    deadline_s: deadlineOf(name),
  });
  const notRun = (name: SelftestRunName, why: string) => {
    report.runs.push({ ...recordBase(name), met: false, verdict: `not run: ${why}`, not_run: why });
    say(`${name}: not run: ${why}`);
    save();
  };

  save(); // a report from an earlier self-test is not left to be mistaken for this one

  let checkout: string | undefined;
  let prepareError: string | undefined;
  const caches: Partial<Record<string, Record<string, string>>> = {};
  try {
    if (plan) {
      describeRemoval(plan, say, false);
      const removal_s = await removePackages(plan, say, 30 * 60_000, logStream);
      report.packages = { removed: plan.remove, autoremoved: plan.autoremove, removal_s };
    }
    const root = temporaryRoot("selftest", options.keep, say);
    checkout = join(root, "checkout");
    say(`cloning ${projectRoot} at ${commit} into ${checkout}${dirty ? " (uncommitted changes are not in it)" : ""}`);
    cloneCommit(checkout, commit);
    for (const cache of ["A", "B"]) caches[cache] = emptyCaches(join(root, `cache-${cache}`));
    if (!runs.includes("fresh-test")) {
      say("npm ci in the clone (untimed: the fresh-test is not run)");
      const prepared = await runStreamed({ argv: ["npm", "ci"], cwd: checkout, env: freshEnvironment(process.env, { CI: "true", ...caches.A! }), deadlineMs: 15 * 60_000, prefix: "prepare    ", log: logStream });
      if (prepared.status !== 0) throw new Error(`npm ci failed (${prepared.error ?? prepared.status ?? prepared.signal})`);
    }
  } catch (error) {
    prepareError = (error as Error).message;
    say(`failed: ${prepareError}`);
  }

  for (const name of runs) {
    if (prepareError !== undefined || checkout === undefined) {
      notRun(name, `the preparation failed: ${prepareError}`);
      continue;
    }
    const gateReport = join(checkout, "reports", "gate.json");
    if (name.endsWith("-gate")) rmSync(gateReport, { force: true });
    const lines: TimedLine[] = [];
    const command = commandOf(name);
    say(`${name}: ${command} in ${checkout}, cache ${cacheOf(name)} (${name.startsWith("fresh") ? "empty" : "warm"}), goal ${selftestGoals[name]} s, deadline ${deadlineOf(name)} s`);
    current = { name, started: Date.now(), lines };
    const run = await runStreamed({
      argv: ["bash", "-c", command],
      cwd: checkout,
      env: freshEnvironment(process.env, { CI: "true", ...caches[cacheOf(name)]! }),
      deadlineMs: deadlineOf(name) * 1000,
      prefix: `${name.padEnd(10)} `,
      log: logStream,
      onLine: (line) => lines.push(line),
    });
    current = undefined;
    const judged = judgeRun({ wall_s: run.wall_s, status: run.error ? 1 : run.status, timedOut: run.timedOut }, selftestGoals[name], deadlineOf(name));
    let gate: GateTimes | undefined;
    if (name.endsWith("-gate") && existsSync(gateReport)) {
      try {
        gate = gateTimes(JSON.parse(readFileSync(gateReport, "utf8")));
      } catch {
        gate = undefined;
      }
    }
    const ava = avaRuns(lines);
    report.runs.push({
      ...recordBase(name),
      status: run.error ? 1 : run.status,
      signal: run.signal,
      timed_out: run.timedOut,
      wall_s: run.wall_s,
      ...judged,
      timeline: timeline(lines, run.wall_s * 1000),
      ...(ava.length ? { ava } : {}),
      ...(gate ? { gate } : {}),
    });
    say(`${name}: ${judged.verdict}`);
    save();
  }

  stopped.cancel();
  delete report.partial;
  save();
  logStream.end();
  say(`report: ${options.report}`);
  const rows = report.runs.map((run) => [run.name, `${run.goal_s} s`, run.wall_s === undefined ? "-" : `${run.wall_s} s`, run.verdict]);
  for (const line of formatTable(["run", "goal", "wall", "verdict"], rows).split("\n")) say(line);
  return report.runs.every((run) => run.met) ? 0 : 1;
}

if (isMainModule(import.meta.url)) process.exitCode = await selftest(process.argv.slice(2));
