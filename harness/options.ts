/** Command-line options shared by `vforkcheck gate` and `vforkcheck mutants`, and the targets they plan. */
import { architectures, findArchitecture, type Architecture } from "../src/architectures.ts";
import { mutants, type Mutant } from "../src/mutants.ts";
import { tierNames, type TargetSpec, type TierName } from "./targets.ts";

export class UsageError extends Error {}

export interface RunOptions {
  architectures: Architecture[];
  tiers: TierName[];
  runs: number;
  seed: number;
  report: string;
  properties?: string[];
  replayPath?: string;
  inProcess: "yes" | "no" | "only";
  /** -D defines for the implementation's build: deliberate-bug variants. */
  defines: string[];
  mutants: Mutant[];
  /** Per-case deadline, when not the tier's default. */
  caseDeadlineMs?: number;
}

export type OptionName = "--arch" | "--tier" | "--runs" | "--seed" | "--report" | "--property" | "--replay-path" | "--in-process" | "--no-in-process" | "--define" | "--mutant" | "--case-deadline";

function integerOption(flag: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n >= 2 ** 31) throw new UsageError(`${flag}: '${text}' is not a valid integer`);
  return n;
}

function listOption<T>(flag: string, text: string, find: (name: string) => T | undefined, what: string, known: readonly string[]): T[] {
  return text.split(",").map((name) => {
    const found = find(name);
    if (found === undefined) throw new UsageError(`${flag}: unknown ${what} '${name}' (known: ${known.join(",")})`);
    return found;
  });
}

export function parseOptions(args: string[], allowed: readonly OptionName[], defaults: Partial<RunOptions> = {}): RunOptions {
  const options: RunOptions = {
    architectures: [...architectures],
    tiers: [...tierNames],
    runs: 50,
    seed: Date.now() % 2 ** 31,
    report: "reports/gate.json",
    inProcess: "yes",
    defines: [],
    mutants: [...mutants],
    ...defaults,
  };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!;
    if (!(allowed as readonly string[]).includes(flag)) throw new UsageError(`unknown option '${flag}'`);
    const takesValue = flag !== "--in-process" && flag !== "--no-in-process";
    const text = takesValue ? args[++i] : "";
    if (takesValue && (text === undefined || text.startsWith("--"))) throw new UsageError(`${flag} needs a value`);
    const value = text!;
    switch (flag as OptionName) {
      case "--arch":
        options.architectures = listOption(flag, value, findArchitecture, "architecture", architectures.map((a) => a.name));
        break;
      case "--tier":
        options.tiers = listOption(flag, value, (name) => tierNames.find((tier) => tier === name), "tier", tierNames);
        break;
      case "--mutant":
        options.mutants = listOption(flag, value, (name) => mutants.find((m) => m.name === name), "mutant", mutants.map((m) => m.name));
        break;
      case "--runs":
        options.runs = integerOption(flag, value, 1);
        break;
      case "--seed":
        options.seed = integerOption(flag, value, -(2 ** 31));
        break;
      case "--case-deadline":
        options.caseDeadlineMs = integerOption(flag, value, 1) * 1000;
        break;
      case "--report":
        options.report = value;
        break;
      case "--property":
        options.properties = value.split(",");
        break;
      case "--replay-path":
        options.replayPath = value;
        break;
      case "--in-process":
        options.inProcess = "only";
        break;
      case "--no-in-process":
        options.inProcess = "no";
        break;
      case "--define":
        if (!/^[A-Z][A-Z0-9_]*$/.test(value)) throw new UsageError(`--define: '${value}' is not a macro name`);
        options.defines.push(value);
        break;
    }
  }
  return options;
}

/** The properties named by --property (all when none), refusing unknown names. */
export function selectProperties<P extends { name: string }>(all: readonly P[], names: readonly string[] | undefined): P[] {
  const unknown = (names ?? []).filter((name) => !all.some((p) => p.name === name));
  if (unknown.length) throw new UsageError(`--property: unknown property '${unknown[0]}' (known: ${all.map((p) => p.name).join(",")})`);
  return names ? all.filter((p) => names.includes(p.name)) : [...all];
}

/** amd64 and 386 run on the host tier when it is asked for, the rest under qemu-user; every architecture boots on the system tier. */
export function planTargets(options: Pick<RunOptions, "architectures" | "tiers" | "inProcess" | "defines" | "caseDeadlineMs">, impl = "reference"): TargetSpec[] {
  const specs: TargetSpec[] = [];
  const base = { impl, defines: options.defines, caseDeadlineMs: options.caseDeadlineMs };
  for (const architecture of options.architectures) {
    const host = options.tiers.includes("host") && architecture.runsOnAmd64Host;
    if (host && options.inProcess !== "only") specs.push({ ...base, architecture, tier: "host", inProcess: false });
    if (host && architecture.name === "amd64" && options.inProcess !== "no") specs.push({ ...base, architecture, tier: "host", inProcess: true });
    const user = options.tiers.includes("user") && (!architecture.runsOnAmd64Host || !options.tiers.includes("host"));
    if (user && options.inProcess !== "only") specs.push({ ...base, architecture, tier: "user", inProcess: false });
    if (options.tiers.includes("system") && options.inProcess !== "only") specs.push({ ...base, architecture, tier: "system", inProcess: false });
  }
  return specs;
}
