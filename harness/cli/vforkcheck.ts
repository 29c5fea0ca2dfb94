/**
 * The vforkcheck command line: `vforkcheck COMMAND [OPTION...]`. Each
 * command's options, defaults and examples are in its table
 * (harness/cli/commands.ts): `vforkcheck COMMAND --help` prints them and
 * docs/command-line.md lists them.
 *
 * Exit: 0 all pass (known findings and failures a --baseline shares do not
 * fail), 1 a property failed, a target did not start (the implementation or
 * the probe crashed: one line names the target and how), or a fixed known
 * finding under --strict-known; 2 bad usage, missing tools or a malformed
 * answer from an implementation (one line says what and where); 3 nothing
 * failed, but something could not be tested: a fault of the machine, the
 * cache, a download or the caller's environment (`broken`, one line).
 */
import { buildAll } from "../build/build.ts";
import { benchMemoryCommand } from "../bench/bench-memory-command.ts";
import { gateOptions, runGate } from "../run/gate.ts";
import { mutantsOptions, runMutants } from "../run/mutants.ts";
import { UsageError } from "../../src/usage-error.ts";
import { BrokenError, brokenExitCode } from "../../src/broken.ts";
import { parseOptions } from "../run/options.ts";
import { runSoak } from "../run/soak.ts";
import { setup } from "./setup.ts";
import { findingsCommand } from "../run/findings.ts";
import { knownSuggestCommand } from "../run/known.ts";
import { reportMergeCommand } from "../run/report-merge.ts";
import { updateKernelLock } from "../toolchain/kernels.ts";
import { updateRuntimeLock } from "../toolchain/runtime-releases.ts";
import { findRelease, isRuntimeName, runtimeNames, runtimeReleases, type RuntimeRelease } from "../../src/runtime-releases.ts";
import { asksForHelp, formatCommandHelp, formatCommandList } from "../../src/option-table.ts";
import { didYouMean } from "../../src/did-you-mean.ts";
import { vforkcheckVersion } from "../process/package-version.ts";
import { buildOptions, commandSpecs, findCommandSpec, kernelsOptions, mutantsDefaults, runtimesOptions } from "./commands.ts";

/** The command a usage error's hint points at ("gate", "bench memory"); the whole list until one is known. */
let helpFor = "";

/** A command with subcommands: the subcommand given, or a one-line refusal naming the known ones. */
function subcommand(command: string, given: string | undefined): string {
  const known = commandSpecs.filter((spec) => spec.name.startsWith(`${command} `)).map((spec) => spec.name.slice(command.length + 1));
  if (given === undefined || !known.includes(given)) {
    const what = command === "bench" ? "benchmark" : "subcommand";
    throw new UsageError(`${command}: unknown ${what} '${given ?? ""}' (known: ${known.join(",")})${given ? didYouMean(given, known) : ""}`);
  }
  return given;
}

/** `vforkcheck help [COMMAND [SUB]]`, `--help`, `COMMAND --help`: the list, or the command's options. */
function printHelp(words: readonly string[]): number {
  if (!words.length) {
    process.stdout.write(`${formatCommandList("vforkcheck", commandSpecs)}\n`);
    return 0;
  }
  const [command, sub] = words;
  const subcommands = commandSpecs.filter((spec) => spec.name.startsWith(`${command} `));
  // `bench --help`: each of its subcommands' help.
  const specs = !subcommands.length ? [findCommandSpec(command!)] : sub === undefined ? subcommands : [findCommandSpec(`${command} ${subcommand(command!, sub)}`)];
  if (specs[0] === undefined) throw new UsageError(`help: unknown command '${command}'${didYouMean(command!, commandSpecs.map((s) => s.name.split(" ")[0]!))}`);
  process.stdout.write(`${specs.map((spec) => formatCommandHelp("vforkcheck", spec!)).join("\n\n")}\n`);
  return 0;
}

async function gate(args: string[]): Promise<number> {
  return (await runGate(parseOptions(args, gateOptions))).exitCode;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === "--version" || command === "-V") {
    process.stdout.write(`${vforkcheckVersion}\n`);
    return 0;
  }
  if (command === "help" || command === "--help" || command === "-h") return printHelp(command === "help" ? args : []);
  if (command === undefined) {
    process.stderr.write(`${formatCommandList("vforkcheck", commandSpecs)}\n`);
    return 2;
  }
  const hasSubcommands = commandSpecs.some((spec) => spec.name.startsWith(`${command} `));
  helpFor = hasSubcommands && args[0] !== undefined && findCommandSpec(`${command} ${args[0]}`) ? `${command} ${args[0]}` : command;
  if (asksForHelp(args) && (findCommandSpec(command) || hasSubcommands)) return printHelp([command, ...args.filter((arg) => !arg.startsWith("-")).slice(0, 1)]);
  if (command === "gate") return gate(args);
  if (command === "soak") return runSoak(args);
  if (command === "mutants") return runMutants(parseOptions(args, mutantsOptions, mutantsDefaults));
  if (command === "bench") {
    const [what, ...rest] = args;
    subcommand(command, what);
    return benchMemoryCommand(rest);
  }
  if (command === "findings") return findingsCommand(args);
  if (command === "report") {
    const [what, ...rest] = args;
    subcommand(command, what);
    return reportMergeCommand(rest);
  }
  if (command === "known") {
    const [what, ...rest] = args;
    subcommand(command, what);
    return knownSuggestCommand(rest);
  }
  if (command === "setup") return setup(args);
  if (command === "build") {
    const options = parseOptions(args, buildOptions);
    await buildAll(options.architectures.map((a) => a.name), (p) => process.stderr.write(`${p.arch}: ${p.state}${p.state === "failed" ? ` ${p.error.message}` : ""}\n`));
    return 0;
  }
  if (command === "kernels") {
    if (!args.includes("--update")) throw new UsageError("kernels: --update is required (it rewrites kernels.lock.json)");
    const options = parseOptions(args.filter((arg) => arg !== "--update"), kernelsOptions);
    await updateKernelLock(options.architectures, { qemuUser: !args.includes("--arch") });
    return 0;
  }
  if (command === "runtimes") {
    if (!args.includes("--update")) throw new UsageError("runtimes: --update is required (it rewrites runtimes.lock.json)");
    const options = parseOptions(args.filter((arg) => arg !== "--update"), runtimesOptions);
    const asked = args.includes("--impl") ? options.implementations : runtimeReleases.map((release) => ({ name: release.runtime, version: release.version }));
    const releases: RuntimeRelease[] = asked.map((spec) => {
      if (!isRuntimeName(spec.name)) throw new UsageError(`runtimes: ${spec.name} has no releases (releases: ${runtimeNames.join(", ")})`);
      return findRelease(spec.name, spec.version)!;
    });
    await updateRuntimeLock(releases, options.architectures);
    return 0;
  }
  helpFor = "";
  throw new UsageError(`unknown command '${command}'${didYouMean(command, [...new Set(commandSpecs.map((spec) => spec.name.split(" ")[0]!)), "help"])}`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    // Could not test (a fault of the machine, the cache or the caller's environment): its own exit code.
    if (error instanceof BrokenError) {
      process.stderr.write(`vforkcheck: broken: ${error.message}\n`);
      process.exit(brokenExitCode);
    }
    // One line, whatever went wrong; the usage is one --help away.
    const message = (error as Error).message.split("\n")[0];
    process.stderr.write(`vforkcheck: ${message}${error instanceof UsageError ? ` (usage: vforkcheck ${helpFor ? `${helpFor} ` : ""}--help)` : ""}\n`);
    process.exit(2);
  },
);
