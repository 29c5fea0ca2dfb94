/**
 * The vforkcheck command line.
 *
 *   vforkcheck gate [--arch LIST] [--tier LIST] [--runs N] [--seed S] [--report FILE]
 *                   [--property LIST] [--replay-path PATH] [--in-process | --no-in-process]
 *                   [--define MACRO]   build the implementation with -DMACRO (a deliberate bug)
 *                   [--case-deadline SECONDS]
 *                   [--impl reference,go,glibc,musl,node (NAME@VERSION, NAME@all)] [--goroot DIR] [--impl-cmd "COMMAND"] [--impl-binary ARCH=PATH,...]   what runs the spawn
 *                   [--junit FILE] [--tap FILE] [--summary FILE]   the results for CI too (JUnit, TAP 14, Markdown)
 *                   [--shard I/N]   only the I-th of N shares of the planned targets (src/shard.ts)
 *   vforkcheck soak --seeds A-B|A,B,... [gate options but --seed]   the gate once per seed,
 *                   a passed/seeds table and every failure's replay (harness/run/soak.ts)
 *                   [--known FILE] [--strict-known]   known findings (src/known-findings.ts)
 *   vforkcheck mutants [--arch LIST] [--tier LIST] [--mutant LIST] [--property LIST] [--runs N]
 *                   [--seed S] [--report FILE]   every property against every mutant (harness/run/mutants.ts)
 *   vforkcheck bench memory [--impl LIST] [--tier LIST] [--arch LIST] [--sizes LIST] [--repeat N]
 *                   [--spawns N] [--gate] [--claim-fast-path LIST] [--report FILE]
 *                   spawn latency against parent memory size (harness/bench/bench-memory.ts)
 *   vforkcheck findings REPORT [--out FILE]   docs/findings.md from one gate report and the
 *                   findings catalogue, docs/findings/<id>/finding.json (harness/run/findings.ts)
 *   vforkcheck report merge A.json B.json ... --out FILE [--junit FILE] [--tap FILE] [--summary FILE]
 *                   the shard reports of one run (gate --shard I/N) as one (harness/run/report-merge.ts)
 *   vforkcheck build [--arch LIST]
 *   vforkcheck setup [--system[=ARCH,...]] [--impl-tools]   install the missing tools, kernels and
 *                   QEMUs (harness/cli/setup.ts)
 *   vforkcheck kernels --update [--arch LIST]   re-pin kernels.lock.json to the archive's current kernels and QEMU
 *   vforkcheck runtimes --update [--impl LIST] [--arch LIST]   re-pin runtimes.lock.json to the registry's
 *                   current packages of each runtime release (src/runtime-releases.ts)
 *
 * Exit: 0 all pass (known findings do not fail), 1 a property failed, a
 * target did not start (the implementation or the probe crashed: one line
 * names the target and how), or a fixed known finding under --strict-known;
 * 2 bad usage, missing tools or a malformed answer from an implementation
 * (one line says what and where).
 */
import { buildAll } from "../build/build.ts";
import { benchMemoryCommand } from "../bench/bench-memory-command.ts";
import { gateOptions, runGate } from "../run/gate.ts";
import { mutantsOptions, runMutants } from "../run/mutants.ts";
import { UsageError } from "../../src/usage-error.ts";
import { parseOptions } from "../run/options.ts";
import { runSoak } from "../run/soak.ts";
import { setup } from "./setup.ts";
import { findingsCommand } from "../run/findings.ts";
import { reportMergeCommand, reportMergeUsage } from "../run/report-merge.ts";
import { updateKernelLock } from "../toolchain/kernels.ts";
import { updateRuntimeLock } from "../toolchain/runtime-releases.ts";
import { findRelease, isRuntimeName, runtimeReleases, type RuntimeRelease } from "../../src/runtime-releases.ts";

const usage = [
  "usage: vforkcheck gate [--arch LIST] [--tier host,user,system] [--runs N] [--seed S] [--report FILE] [--property LIST] [--replay-path PATH] [--in-process|--no-in-process] [--define MACRO] [--case-deadline SECONDS] [--impl reference,go,glibc,musl,node (NAME@VERSION, NAME@all)] [--goroot DIR] [--impl-cmd COMMAND] [--impl-binary ARCH=PATH,...] [--known FILE] [--strict-known] [--junit FILE] [--tap FILE] [--summary FILE] [--shard I/N]",
  "       vforkcheck soak --seeds A-B|A,B,... [gate options but --seed; --report defaults to reports/soak.json]",
  "       vforkcheck mutants [--arch LIST] [--tier host,user,system] [--mutant LIST] [--property LIST] [--runs N] [--seed S] [--report FILE] [--case-deadline SECONDS]",
  "       vforkcheck bench memory [--impl reference,fork,glibc,go,node,in-process] [--tier host,user,system] [--arch LIST] [--sizes 64M,1G,...] [--repeat N] [--spawns N] [--gate] [--claim-fast-path LIST] [--goroot DIR] [--report FILE]",
  "       vforkcheck findings REPORT [--out FILE]",
  `       ${reportMergeUsage}`,
  "       vforkcheck build [--arch LIST]",
  "       vforkcheck setup [--system[=ARCH,...]] [--impl-tools]",
  "       vforkcheck kernels --update [--arch LIST]",
  "       vforkcheck runtimes --update [--impl go@all,glibc@2.41,...] [--arch LIST]",
].join("\n");

async function gate(args: string[]): Promise<number> {
  return (await runGate(parseOptions(args, gateOptions))).exitCode;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === "gate") return gate(args);
  if (command === "soak") return runSoak(args);
  if (command === "mutants") return runMutants(parseOptions(args, mutantsOptions, { runs: 100, report: "reports/mutants.json" }));
  if (command === "bench") {
    const [what, ...rest] = args;
    if (what !== "memory") throw new UsageError(`bench: unknown benchmark '${what ?? ""}' (known: memory)`);
    return benchMemoryCommand(rest);
  }
  if (command === "findings") return findingsCommand(args);
  if (command === "report") {
    const [what, ...rest] = args;
    if (what !== "merge") throw new UsageError(`report: unknown subcommand '${what ?? ""}' (known: merge)`);
    return reportMergeCommand(rest);
  }
  if (command === "setup") return setup(args);
  if (command === "build") {
    const options = parseOptions(args, ["--arch"]);
    await buildAll(options.architectures.map((a) => a.name), (p) => process.stderr.write(`${p.arch}: ${p.state}${p.state === "failed" ? ` ${p.error.message}` : ""}\n`));
    return 0;
  }
  if (command === "kernels") {
    if (!args.includes("--update")) throw new UsageError("kernels: --update is required (it rewrites kernels.lock.json)");
    const options = parseOptions(args.filter((arg) => arg !== "--update"), ["--arch"]);
    await updateKernelLock(options.architectures, { qemuUser: !args.includes("--arch") });
    return 0;
  }
  if (command === "runtimes") {
    if (!args.includes("--update")) throw new UsageError("runtimes: --update is required (it rewrites runtimes.lock.json)");
    const options = parseOptions(args.filter((arg) => arg !== "--update"), ["--arch", "--impl"]);
    const asked = args.includes("--impl") ? options.implementations : runtimeReleases.map((release) => ({ name: release.runtime, version: release.version }));
    const releases: RuntimeRelease[] = asked.map((spec) => {
      if (!isRuntimeName(spec.name)) throw new UsageError(`runtimes: ${spec.name} has no releases (releases: go, glibc, musl)`);
      return findRelease(spec.name, spec.version)!;
    });
    await updateRuntimeLock(releases, options.architectures);
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
    // One line, whatever went wrong; the usage is one --help away.
    const message = (error as Error).message.split("\n")[0];
    process.stderr.write(`vforkcheck: ${message}${error instanceof UsageError ? " (usage: vforkcheck --help)" : ""}\n`);
    process.exit(2);
  },
);
