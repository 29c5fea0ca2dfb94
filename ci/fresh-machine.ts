/**
 * `npm run ci:fresh`: CI's job on this machine made fresh again, as root.
 *
 *   npm run ci:fresh [-- --dry-run] [--keep] [--deadline MINUTES]
 *                       [--keep-packages] [--command 'SHELL COMMAND']
 *
 * 1. Removes (apt-get purge --autoremove) the Debian packages set-up installs,
 *    as its own tables name them (harness/toolchain/required-tools.ts
 *    coreTools() and systemTierTools()), those installed, and what apt's
 *    autoremove takes with them; never python3 (the base image's).
 * 2. Clones this checkout's HEAD commit into a temporary directory
 *    (uncommitted changes are not in it).
 * 3. Runs `bash .ci/run` there, with CI=true, no stdin, an empty cache
 *    (VFORKCHECK_CACHE, XDG_CACHE_HOME: Go's too), an empty npm cache
 *    (npm_config_cache) and an empty apt download directory (APT_CONFIG
 *    setting Dir::Cache::archives, so apt downloads the .debs again), its
 *    output streamed with the time since its start and written to a log
 *    file whose path is printed.
 * 4. Prints the wall time, .ci/run's exit status and ava's summary lines,
 *    removes the clone and the caches (also on SIGINT/SIGTERM), and exits
 *    with .ci/run's status: 124 when the deadline (90 minutes by default)
 *    killed it, 1 when a step before it failed, 2 on bad arguments or when
 *    not root.
 *
 * --dry-run prints what would be removed, cloned and run, and does none of
 * it. --keep leaves the temporary directories for inspection.
 * --keep-packages and --command try the flow quickly (no removal; another
 * command than .ci/run); a measurement uses neither.
 */
import { spawnSync } from "node:child_process";
import { parseArgs as parseNodeArgs, type ParseArgsConfig } from "node:util";
import { chmodSync, createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import type { Writable } from "node:stream";
import { join } from "node:path";
import { isMainModule } from "../harness/process/main-module.ts";
import { projectRoot as projectRootSlash } from "../harness/process/project-root.ts";
import { onCleanup } from "../harness/process/run-cleanup.ts";
import { coreTools, systemTierTools } from "../harness/toolchain/required-tools.ts";
import { baseImagePackages, describeEnvironment, freshEnvironment, parseAptSimulation, parseDpkgStatus, removalPlan, setupPackages, type RemovalPlan } from "../src/fresh-machine.ts";
import { avaSummaries, clockTime, type TimedLine } from "../src/selftest.ts";
import { UsageError } from "../src/usage-error.ts";

const projectRoot = projectRootSlash.replace(/\/$/, "");
import { runStreamed, type StreamedRun } from "./run-streamed.ts";

export type Say = (line: string) => void;

/** A command's status as a shell gives it: 124 when its deadline killed it (timeout(1)'s), 128+N for signal N, 1 when it did not start. */
export function exitStatusOf(run: StreamedRun): number {
  if (run.timedOut) return 124;
  if (run.error) return 1;
  return run.status ?? 128 + (run.signal ? constants.signals[run.signal] : 0);
}

/** The set-up's packages, which of them are installed, and what apt would autoremove with them (its simulation: nothing is changed). */
export function planRemoval(): RemovalPlan {
  const setup = setupPackages([...coreTools(), ...systemTierTools()]);
  const query = spawnSync("dpkg-query", ["-W", "-f=${Package}\t${db:Status-Status}\n", ...setup], { encoding: "utf8" });
  if (query.error) throw new Error(`dpkg-query: ${query.error.message}`);
  const installed = parseDpkgStatus(query.stdout);
  const remove = setup.filter((name) => installed.has(name));
  let simulated: string[] = [];
  if (remove.length > 0) {
    const simulation = spawnSync("apt-get", ["-s", "purge", "--autoremove", ...remove], { encoding: "utf8", env: { ...process.env, LC_ALL: "C" } });
    if (simulation.status !== 0) throw new Error(`apt-get -s purge --autoremove ${remove.join(" ")} failed (${simulation.status}): ${simulation.stderr.trim().split("\n").at(-1)}`);
    simulated = parseAptSimulation(simulation.stdout);
  }
  return removalPlan(setup, installed, simulated);
}

/** The plan, one line per kind, "would" in a dry run. */
export function describeRemoval(plan: RemovalPlan, say: Say, dryRun: boolean): void {
  const would = dryRun ? "would " : "";
  say(`set-up's packages (coreTools, systemTierTools): ${plan.setup.join(" ")}`);
  say(`${would}remove (installed): ${plan.remove.join(" ") || "(none)"}`);
  if (plan.notInstalled.length) say(`not installed: ${plan.notInstalled.join(" ")}`);
  say(`${would}autoremove with them (apt-get -s): ${plan.autoremove.join(" ") || "(none)"}`);
  say(`never removed: ${baseImagePackages.join(" ")} (the base image's)`);
  if (plan.baseImage.length) say(`refusing: apt would remove base-image packages with them: ${plan.baseImage.join(" ")}`);
}

/** Removes the plan's packages and what autoremove takes with them; throws if any is still installed after. */
export async function removePackages(plan: RemovalPlan, say: Say, deadlineMs: number, log?: Writable): Promise<number> {
  if (plan.baseImage.length) throw new Error(`apt would remove base-image packages (${plan.baseImage.join(" ")}); nothing was removed`);
  if (plan.remove.length === 0) {
    say("no set-up package is installed: nothing to remove");
    return 0;
  }
  say(`removing ${plan.remove.length} packages and ${plan.autoremove.length} that autoremove takes with them`);
  const run = await runStreamed({
    argv: ["apt-get", "purge", "-y", "--autoremove", ...plan.remove],
    cwd: "/",
    env: { ...freshEnvironment(process.env, {}), DEBIAN_FRONTEND: "noninteractive" },
    deadlineMs,
    prefix: "  apt-get ",
    log,
  });
  if (run.status !== 0) throw new Error(`apt-get purge failed (${run.error ?? run.status ?? run.signal})`);
  const left = planRemoval().remove;
  if (left.length) throw new Error(`still installed after apt-get purge: ${left.join(" ")}`);
  say(`removed in ${run.wall_s} s`);
  return run.wall_s;
}

export interface HeadCommit {
  commit: string;
  /** The checkout has uncommitted changes, which the clone will not have. */
  dirty: boolean;
}

export function headCommit(): HeadCommit {
  const git = (...args: string[]) => spawnSync("git", ["-C", projectRoot, ...args], { encoding: "utf8" });
  const head = git("rev-parse", "HEAD");
  if (head.status !== 0) throw new Error(`git rev-parse HEAD in ${projectRoot}: ${head.stderr.trim()}`);
  return { commit: head.stdout.trim(), dirty: git("status", "--porcelain", "--untracked-files=no").stdout.trim() !== "" };
}

/** Clones this checkout into `directory` and checks out `commit` there (detached). */
export function cloneCommit(directory: string, commit: string): void {
  const run = (...args: string[]) => {
    const result = spawnSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    if (result.status !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr.trim() || result.error?.message}`);
  };
  run("clone", "--quiet", "--no-checkout", projectRoot, directory);
  run("-C", directory, "checkout", "--quiet", "--detach", commit);
}

/** A temporary directory for a fresh run, removed at exit (also on a signal) unless kept. */
export function temporaryRoot(label: string, keep: boolean, say: Say): string {
  const root = mkdtempSync(join(tmpdir(), `vforkcheck-${label}-`));
  // Readable by others, as a checkout usually is: the clone's tests run a script as nobody (test/ci/fresh-machine.test.ts).
  chmodSync(root, 0o755);
  if (!keep) onCleanup(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

/** The variables that point a run's caches into `directory`: vforkcheck's, XDG's (Go's build cache), npm's, and apt's downloads (APT_CONFIG). */
export function cacheVariables(directory: string): Record<string, string> {
  return { VFORKCHECK_CACHE: join(directory, "vforkcheck"), XDG_CACHE_HOME: join(directory, "xdg"), npm_config_cache: join(directory, "npm"), APT_CONFIG: join(directory, "apt.conf") };
}

/** Makes the empty caches of cacheVariables(directory) and returns those variables. */
export function emptyCaches(directory: string): Record<string, string> {
  const variables = cacheVariables(directory);
  const archives = join(directory, "apt-archives");
  mkdirSync(join(archives, "partial"), { recursive: true });
  for (const name of ["VFORKCHECK_CACHE", "XDG_CACHE_HOME", "npm_config_cache"]) mkdirSync(variables[name]!, { recursive: true });
  writeFileSync(variables.APT_CONFIG!, `// ci:fresh: apt downloads the .debs again, into an empty directory.\nDir::Cache::archives "${archives}/";\n`);
  return variables;
}

/** A log file outside the temporary directories, so it outlives them. */
export function logFile(label: string): string {
  return join(tmpdir(), `vforkcheck-${label}-${new Date().toISOString().replace(/[:.]/g, "-")}.log`);
}

interface FreshOptions {
  dryRun: boolean;
  keep: boolean;
  deadlineMinutes: number;
  keepPackages: boolean;
  command?: string;
}

const usage = "usage: npm run ci:fresh [-- --dry-run] [--keep] [--deadline MINUTES] [--keep-packages] [--command 'SHELL COMMAND']";

function parseArgs(args: readonly string[]): FreshOptions {
  const { values } = parseCommandLine(args, usage, {
    "dry-run": { type: "boolean" }, keep: { type: "boolean" }, "keep-packages": { type: "boolean" },
    deadline: { type: "string" }, command: { type: "string" },
  });
  const deadlineMinutes = values.deadline === undefined ? 90 : Number(values.deadline);
  if (!(deadlineMinutes > 0)) throw new UsageError(`--deadline: minutes, a positive number; ${usage}`);
  return {
    dryRun: values["dry-run"] === true, keep: values.keep === true, keepPackages: values["keep-packages"] === true, deadlineMinutes,
    ...(values.command !== undefined ? { command: values.command } : {}),
  };
}

/**
 * Node's own util.parseArgs (no dependency for two small commands), its
 * errors made one UsageError line that ends with the command's usage.
 */
export function parseCommandLine<T extends ParseArgsConfig["options"]>(args: readonly string[], usage: string, options: T) {
  try {
    return parseNodeArgs({ args: [...args], options, strict: true, allowPositionals: false });
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split("\n")[0]}; ${usage}`);
  }
}

/** The refusal when not root: one line. */
export function needsRoot(command: string): string {
  return `${command}: needs root: it removes Debian packages with apt-get, as CI's fresh machine lacks them (run it as root, as CI does)`;
}

/**
 * The start both root commands share: the refusal when not root, then the
 * arguments parsed; either failure is one line on stderr and exit 2
 * (undefined options). `say` prefixes progress lines with the command's name.
 */
export function rootCommandStart<O>(command: string, args: readonly string[], parse: (args: readonly string[]) => O): { options?: O; say: Say } {
  const say: Say = (line) => process.stdout.write(`${command}: ${line}\n`);
  if (process.getuid?.() !== 0) {
    process.stderr.write(`${needsRoot(command)}\n`);
    return { say };
  }
  try {
    return { options: parse(args), say };
  } catch (error) {
    process.stderr.write(`${command}: ${(error as Error).message}\n`);
    return { say };
  }
}

export async function freshMachine(args: readonly string[]): Promise<number> {
  const { options, say } = rootCommandStart("ci:fresh", args, parseArgs);
  if (options === undefined) return 2;
  const started = Date.now();
  const deadlineAt = started + options.deadlineMinutes * 60_000;
  const remaining = () => Math.max(1000, deadlineAt - Date.now());

  const plan = options.keepPackages ? undefined : planRemoval();
  const { commit, dirty } = headCommit();
  const command = options.command === undefined ? ["bash", ".ci/run"] : ["bash", "-c", options.command];
  const shown = options.command === undefined ? "bash .ci/run" : `bash -c '${options.command}'`;
  if (options.dryRun) {
    say("dry run: nothing is removed, cloned or run");
    if (plan) describeRemoval(plan, say, true);
    else say("--keep-packages: no package would be removed");
    const root = join(tmpdir(), "vforkcheck-fresh-XXXXXX");
    say(`would clone ${projectRoot} at ${commit} (HEAD) into ${root}/checkout${dirty ? "; uncommitted changes are not in it" : ""}`);
    say(`would run there: CI=true ${describeEnvironment(cacheVariables(join(root, "cache")))} ${shown} (no stdin; deadline ${options.deadlineMinutes} min; log ${join(tmpdir(), "vforkcheck-ci-fresh-<time>.log")})`);
    say(options.keep ? `would keep ${root}` : `would remove ${root} afterwards`);
    return 0;
  }

  const log = logFile("ci-fresh");
  const logStream = createWriteStream(log);
  say(`log: ${log}`);
  const lines: TimedLine[] = [];
  let run: StreamedRun | undefined;
  // Stopped by a signal: say how far it got (the clean-up then removes the directories).
  const interrupted = onCleanup(() => say(`stopped after ${Math.round((Date.now() - started) / 1000)} s${run ? "" : ` (${shown} had not finished)`}; ava: ${avaSummaries(lines).join(" | ") || "no summary seen"}`));
  try {
    if (plan) {
      describeRemoval(plan, say, false);
      await removePackages(plan, say, remaining(), logStream);
    } else say("--keep-packages: removing no package");
    const root = temporaryRoot("fresh", options.keep, say);
    const checkout = join(root, "checkout");
    say(`cloning ${projectRoot} at ${commit} into ${checkout}${dirty ? " (uncommitted changes are not in it)" : ""}`);
    cloneCommit(checkout, commit);
    const caches = emptyCaches(join(root, "cache"));
    say(`running ${shown} in ${checkout}: CI=true ${describeEnvironment(caches)}, no stdin, deadline ${Math.round(remaining() / 60_000)} min`);
    run = await runStreamed({
      argv: command,
      cwd: checkout,
      env: freshEnvironment(process.env, { CI: "true", ...caches }),
      deadlineMs: remaining(),
      log: logStream,
      onLine: (line) => lines.push(line),
    });
    interrupted.cancel();
    const summaries = avaSummaries(lines);
    const result = run.timedOut ? `killed at the deadline (${options.deadlineMinutes} min)` : run.error ?? (run.status === null ? `killed by ${run.signal}` : `exit ${run.status}`);
    say(`${shown}: ${result} after ${run.wall_s} s (${clockTime(run.wall_s)}); whole run ${Math.round((Date.now() - started) / 100) / 10} s`);
    say(`ava: ${summaries.join(" | ") || "no summary line seen"}`);
    say(options.keep ? `kept ${root} (checkout/, cache/)` : `removing ${root}`);
    say(`log: ${log}`);
    return exitStatusOf(run);
  } catch (error) {
    interrupted.cancel();
    say(`failed: ${(error as Error).message}`);
    return 1;
  } finally {
    logStream.end();
  }
}

if (isMainModule(import.meta.url)) process.exitCode = await freshMachine(process.argv.slice(2));
