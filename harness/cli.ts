/**
 * The vforkcheck command line.
 *
 *   vforkcheck gate [--arch LIST] [--tier LIST] [--runs N] [--seed S] [--report FILE]
 *                   [--property LIST] [--replay-path PATH] [--in-process | --no-in-process]
 *                   [--define MACRO]   build the implementation with -DMACRO (a deliberate bug)
 *                   [--case-deadline SECONDS]
 *                   [--impl reference,go,glibc,node] [--goroot DIR] [--impl-cmd "COMMAND"]   what runs the spawn
 *   vforkcheck mutants [--arch LIST] [--tier LIST] [--mutant LIST] [--property LIST] [--runs N]
 *                   [--seed S] [--report FILE]   every property against every mutant (harness/mutants.ts)
 *   vforkcheck bench memory [--impl LIST] [--tier LIST] [--arch LIST] [--sizes LIST] [--repeat N]
 *                   [--spawns N] [--gate] [--claim-fast-path LIST] [--report FILE]
 *                   spawn latency against parent memory size (harness/bench-memory.ts)
 *   vforkcheck build [--arch LIST]
 *
 * Exit: 0 all pass, 1 any failure, 2 bad usage, missing tools or a
 * malformed answer from an implementation (one line says what and where).
 */
import { ProtocolError } from "../src/protocol.ts";
import { loadProperties } from "../properties/index.ts";
import { buildAll } from "./build.ts";
import { benchMemoryCommand } from "./bench-memory-command.ts";
import type { PropertyResult } from "./run-property.ts";
import { mutantsOptions, runMutants } from "./mutants.ts";
import { parseOptions, planTargets, selectProperties, UsageError, type OptionName } from "./options.ts";
import { replayPrefix, runPropertiesOnTarget } from "./run-target.ts";
import { toolsFor } from "./required-tools.ts";
import { capabilitiesByArchitecture, summarizeCapabilities, type TargetSummary } from "./target-summary.ts";
import { probeCapabilities, targetName, type TargetSpec } from "./targets.ts";
import { ensureTools } from "./setup.ts";
import { settleWithLimit } from "./limited-parallel.ts";
import { onCleanup } from "./run-cleanup.ts";
import { formatTable, writeJsonReport } from "./report-output.ts";

const usage = [
  "usage: vforkcheck gate [--arch LIST] [--tier host,user,system] [--runs N] [--seed S] [--report FILE] [--property LIST] [--replay-path PATH] [--in-process|--no-in-process] [--define MACRO] [--case-deadline SECONDS] [--impl reference,go,glibc,node] [--goroot DIR] [--impl-cmd COMMAND]",
  "       vforkcheck mutants [--arch LIST] [--tier host,user,system] [--mutant LIST] [--property LIST] [--runs N] [--seed S] [--report FILE] [--case-deadline SECONDS]",
  "       vforkcheck bench memory [--impl reference,fork,glibc,go,node,in-process] [--tier host,user,system] [--arch LIST] [--sizes 64M,1G,...] [--repeat N] [--spawns N] [--gate] [--claim-fast-path LIST] [--goroot DIR] [--report FILE]",
  "       vforkcheck build [--arch LIST]",
].join("\n");

const gateOptions: OptionName[] = ["--arch", "--tier", "--runs", "--seed", "--report", "--property", "--replay-path", "--in-process", "--no-in-process", "--define", "--case-deadline", "--impl", "--impl-cmd", "--goroot"];

function printTable(results: PropertyResult[], properties: string[]): void {
  const targets = [...new Set(results.map((r) => r.target))];
  const rows = targets.map((target) => [target, results.find((r) => r.target === target)?.impl ?? "", ...properties.map((p) => results.find((r) => r.target === target && r.property === p)?.status ?? "-")]);
  process.stdout.write(`${formatTable(["target", "impl", ...properties], rows)}\n`);
}

function writeReport(file: string, seed: number, results: PropertyResult[], targets: TargetSummary[], partial = false): void {
  writeJsonReport(file, { seed, ...(partial ? { partial } : {}), results, targets, capabilities: capabilitiesByArchitecture(targets) });
}

/**
 * For each architecture run on the system tier without its user tier, the
 * user tier's probe too (under a second), so the report can set what
 * qemu-user emulates beside what the kernel does.
 */
async function userTierSummaries(specs: readonly TargetSpec[], summaries: readonly TargetSummary[]): Promise<TargetSummary[]> {
  const wanted = specs.filter((spec) => spec.tier === "system" && !summaries.some((s) => s.arch === spec.architecture.name && s.tier === "user"));
  return Promise.all(
    wanted.map(async (spec) => {
      const user: TargetSpec = { ...spec, tier: "user", defines: [] };
      return { target: targetName(user), arch: spec.architecture.name, tier: "user", capabilities: summarizeCapabilities(await probeCapabilities(user)) };
    }),
  );
}

async function gate(args: string[]): Promise<number> {
  const options = parseOptions(args, gateOptions);
  const all = await loadProperties();
  const properties = selectProperties(all, options.properties);
  const specs = planTargets(options);
  await ensureTools(toolsFor(specs));
  if (!specs.length) throw new UsageError("no target matches the --arch and --tier given");
  process.stderr.write(`vforkcheck gate: seed ${options.seed}, ${options.runs} runs, ${specs.length} targets, ${properties.length} properties\n`);
  await buildAll([...new Set(specs.map((s) => s.architecture.name))], (p) => p.state === "failed" && process.stderr.write(`build ${p.arch} failed: ${p.error.message}\n`));
  const results: PropertyResult[] = [];
  const summaries: TargetSummary[] = [];
  // Stopped by a signal: keep the results already obtained, marked as partial.
  const writePartialReport = onCleanup(() => {
    writeReport(options.report, options.seed, results, summaries, true);
    process.stderr.write(`vforkcheck: stopped early; partial report (${results.length} results): ${options.report}\n`);
  });
  let malformed: ProtocolError | undefined;
  const runTarget = async (spec: TargetSpec) => {
    const run = await runPropertiesOnTarget(spec, properties, {
      runs: options.runs,
      seed: options.seed,
      replayPath: options.replayPath,
      replayPrefix: replayPrefix(options.defines, options.caseDeadlineMs, spec.implementation),
      onMalformed: "stop",
      progress: (line) => process.stderr.write(`${line}\n`),
      onResult: (result) => results.push(result),
    });
    malformed ??= run.malformed;
    if (run.summary) summaries.push(run.summary);
  };
  // Two targets at a time, but the in-process one alone, last: its strace
  // follows every child this Node process starts (another target's strace
  // could then not trace its driver), and its descriptor count would see
  // the other targets' pipes come and go.
  await settleWithLimit(specs.filter((spec) => !spec.inProcess), 2, runTarget);
  for (const spec of specs.filter((spec) => spec.inProcess)) await runTarget(spec);
  summaries.push(...(await userTierSummaries(specs, summaries)));
  writePartialReport.cancel();
  writeReport(options.report, options.seed, results, summaries);
  printTable(results, properties.map((p) => p.name));
  process.stdout.write(`report: ${options.report}\n`);
  if (malformed) {
    process.stderr.write(`vforkcheck: malformed answer from the implementation: ${malformed.message}\n`);
    return 2;
  }
  const failed = results.filter((r) => r.status === "fail");
  for (const f of failed) process.stdout.write(`FAIL ${f.target} ${f.property}: replay with: ${f.replay ?? "(target did not start)"}\n`);
  return failed.length ? 1 : 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === "gate") return gate(args);
  if (command === "mutants") return runMutants(parseOptions(args, mutantsOptions, { runs: 100, report: "reports/mutants.json" }));
  if (command === "bench") {
    const [what, ...rest] = args;
    if (what !== "memory") throw new UsageError(`bench: unknown benchmark '${what ?? ""}' (known: memory)`);
    return benchMemoryCommand(rest);
  }
  if (command === "build") {
    const options = parseOptions(args, ["--arch"]);
    await buildAll(options.architectures.map((a) => a.name), (p) => process.stderr.write(`${p.arch}: ${p.state}${p.state === "failed" ? ` ${p.error.message}` : ""}\n`));
    return 0;
  }
  if (command === "--help" || command === "help" || command === undefined) {
    process.stdout.write(`${usage}\n`);
    return command === undefined ? 2 : 0;
  }
  throw new UsageError(`unknown command '${command}'`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) process.stderr.write(`vforkcheck: ${error.message}\n${usage}\n`);
    else process.stderr.write(`vforkcheck: ${(error as Error).message.split("\n")[0]}\n`);
    process.exit(2);
  },
);
