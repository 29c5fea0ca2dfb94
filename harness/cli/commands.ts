/**
 * Every vforkcheck command's option table, in the order `vforkcheck --help`
 * lists them: what each command's --help prints and what
 * docs/command-line.md is checked against. The run commands' tables are
 * made from the options their parse allows (gateOptions, soakOptions,
 * mutantsOptions), with the defaults their parse starts from.
 */
import { benchMemoryCommandSpec } from "../bench/bench-memory-command.ts";
import { gateOptions } from "../run/gate.ts";
import { mutantsOptions } from "../run/mutants.ts";
import { runOptionTable, type OptionName, type RunDefaults } from "../run/options.ts";
import { soakOptions } from "../run/soak.ts";
import { findingsCommandSpec } from "../run/findings.ts";
import { reportMergeCommandSpec } from "../run/report-merge.ts";
import { knownSuggestCommandSpec } from "../run/known.ts";
import { setupCommandSpec } from "./setup.ts";
import type { CommandSpec, OptionSpec } from "../../src/option-table.ts";

export const mutantsDefaults: RunDefaults = { runs: 100, report: "reports/mutants.json" };
export const soakDefaults: Partial<RunDefaults> = { report: "reports/soak.json" };

/** The options of build, kernels --update and runtimes --update: --update is a switch their dispatch reads. */
export const buildOptions: OptionName[] = ["--arch"];
export const kernelsOptions: OptionName[] = ["--arch"];
export const runtimesOptions: OptionName[] = ["--arch", "--impl"];

const update = (file: string): OptionSpec => ({ name: "--update", default: "none: required", description: `rewrite ${file} (the command does nothing else)`, example: "--update" });

export const commandSpecs: CommandSpec[] = [
  { name: "gate", summary: "every property on every planned target (architecture x tier x implementation), with a table, a JSON report and the CI formats", options: runOptionTable(gateOptions) },
  {
    name: "soak",
    summary: "the gate once per seed; a passed/seeds table per target and property, and every failure's replay",
    options: [
      { name: "--seeds", value: "A-B|A,B,...", default: "none: required", description: "the seeds, one gate each (in place of --seed)", example: "--seeds 1-20" },
      ...runOptionTable(soakOptions, soakDefaults),
    ],
  },
  { name: "mutants", summary: "every property against every mutant (a deliberate bug of the reference) on every target, and the mutant x target matrix", options: runOptionTable(mutantsOptions, mutantsDefaults) },
  benchMemoryCommandSpec,
  findingsCommandSpec,
  reportMergeCommandSpec,
  { name: "build", summary: "build the reference's drivers and libraries (cached by content); the runs build what they need themselves", options: runOptionTable(buildOptions) },
  setupCommandSpec,
  { name: "kernels", summary: "re-pin kernels.lock.json to the Debian archive's current kernels and QEMU", options: [update("kernels.lock.json"), ...runOptionTable(kernelsOptions)] },
  {
    name: "runtimes",
    summary: "re-pin runtimes.lock.json to the registry's current packages of each runtime release",
    options: [
      update("runtimes.lock.json"),
      ...runOptionTable(runtimesOptions).map((option) =>
        option.name === "--impl" ? { ...option, default: "every release", description: "the releases to re-pin: NAME@VERSION or NAME@all, of go, glibc, musl, python, node", example: "--impl go@all,glibc@2.41" } : option,
      ),
    ],
  },
  knownSuggestCommandSpec,
];

/** The command a name (or a name and its subcommand, "bench memory") means. */
export function findCommandSpec(name: string): CommandSpec | undefined {
  return commandSpecs.find((command) => command.name === name);
}
