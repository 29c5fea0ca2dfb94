/** Command-line options shared by `vforkcheck gate` and `vforkcheck mutants`, and the targets they plan. */
import { architectures, findArchitecture, type Architecture } from "../../src/architectures.ts";
import { mutants, type Mutant } from "../../src/mutants.ts";
import { existsSync } from "node:fs";
import { UsageError } from "../../src/usage-error.ts";
import { join, resolve } from "node:path";
import { implementationLabel, implementationNames, implementationOf } from "../implementations/index.ts";
import { parseBinaryDrivers, parseImplementationItem, type ImplementationSpec } from "../../src/implementation-spec.ts";
import { absoluteLibcRootOption } from "../../src/libc-root.ts";
import type { TargetSpec } from "../targets/target.ts";
import { tierNames, type TierName } from "../../src/tiers.ts";
import { parseShard, type Shard } from "../../src/shard.ts";
import { nativeExecutionOf, runsNatively, type HostExecution } from "../../src/host-execution.ts";
import { parseCommandLine, type OptionSpec } from "../../src/option-table.ts";


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
  /** What runs the spawn: --impl LIST, --impl-cmd and --impl-binary (default: the reference). */
  implementations: ImplementationSpec[];
  /** --known FILE: the known findings, instead of each implementation's own file. */
  knownFile?: string;
  /** --strict-known: a known finding that no longer reproduces (fixed) fails the run. */
  strictKnown: boolean;
  /** --junit, --tap, --summary FILE: the same results for CI systems (src/junit-report.ts, tap-report.ts, markdown-summary.ts). */
  junit?: string;
  tap?: string;
  summary?: string;
  /** --shard I/N: only this job's share of the planned targets (src/shard.ts). */
  shard?: Shard;
  /**
   * --baseline NAME@VERSION, --baseline-goroot DIR or --baseline-libc-root DIR:
   * the build the one implementation under test is compared with. A failure
   * whose counterexample fails the baseline the same way is `baseline`, not `fail`.
   */
  baseline?: ImplementationSpec;
}

export type OptionName = "--arch" | "--tier" | "--runs" | "--seed" | "--report" | "--property" | "--replay-path" | "--in-process" | "--no-in-process" | "--define" | "--mutant" | "--case-deadline" | "--impl" | "--impl-cmd" | "--impl-binary" | "--goroot" | "--known" | "--strict-known" | "--junit" | "--tap" | "--summary" | "--shard" | "--libc-root" | "--baseline" | "--baseline-goroot" | "--baseline-libc-root" | "--python" | "--node";

/** An integer option at least min; unit ("second") names what it counts in the message. */
export function integerOption(flag: string, text: string, min: number, unit?: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n >= 2 ** 31) throw new UsageError(`${flag}: '${text}' is not a valid integer`);
  if (n < min) throw new UsageError(`${flag}: must be at least ${min}${unit ? ` ${unit}${min === 1 ? "" : "s"}` : ""} (got ${text})`);
  return n;
}

/** fast-check's replay path: case indices separated by colons, as a FAIL line's replay command gives it. */
export function replayPathOption(text: string): string {
  if (!/^\d+(:\d+)*$/.test(text)) throw new UsageError(`--replay-path: '${text}' is not a replay path (numbers separated by ':', as printed after FAIL)`);
  return text;
}

/**
 * A list that names one item twice is bad input: `--arch amd64,amd64` would
 * plan the same target twice, run at once, with two results for each cell;
 * and a repeat is as likely a slip for another name as a harmless echo.
 */
export function refuseRepeats(flag: string, names: readonly string[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new UsageError(`${flag}: '${name}' is given twice (name each once)`);
    seen.add(name);
  }
}

export function listOption<T>(flag: string, text: string, find: (name: string) => T | undefined, what: string, known: readonly string[]): T[] {
  const names = text.split(",");
  const found = names.map((name) => {
    const item = find(name);
    if (item === undefined) throw new UsageError(`${flag}: unknown ${what} '${name}' (known: ${known.join(",")})`);
    return item;
  });
  refuseRepeats(flag, names);
  return found;
}

/** The defaults a command's help shows: what parseOptions starts from, without the clock's seed. */
export type RunDefaults = Pick<RunOptions, "runs" | "report">;

export const gateDefaults: RunDefaults = { runs: 50, report: "reports/gate.json" };

type RunOptionSpec = Omit<OptionSpec, "name" | "default"> & { default: string | ((defaults: RunDefaults) => string) };

/** Every run option, once: each command's table is the ones it allows (runOptionTable), its help and docs are made from that table. */
const runOptionSpecs: Record<OptionName, RunOptionSpec> = {
  "--arch": { value: "LIST", default: `all ${architectures.length}`, description: `the architectures, from ${architectures.map((a) => a.name).join(",")}`, example: "--arch amd64,arm64" },
  "--tier": { value: "LIST", default: tierNames.join(","), description: "the tiers: host (this kernel), user (qemu-user), system (a qemu-system VM per architecture)", example: "--tier host" },
  "--runs": { value: "N", default: (d) => String(d.runs), description: "generated cases per property on each target", example: "--runs 10" },
  "--seed": { value: "S", default: "from the clock (printed at the start)", description: "fast-check's seed: the same seed draws the same cases", example: "--seed 1" },
  "--report": { value: "FILE", default: (d) => d.report, description: "where the JSON report goes", example: "--report out/run.json" },
  "--property": { value: "LIST", default: "all", description: "only these properties (the table's legend names them)", example: "--property errno-propagates,pidfd" },
  "--replay-path": { value: "PATH", default: "none", description: "fast-check's replay path, as a FAIL line's replay command gives it", example: "--replay-path 12:0:3" },
  "--in-process": { default: "off (the in-process target runs beside the drivers)", description: "only the in-process target: the reference loaded into this Node process (amd64/host)", example: "--in-process" },
  "--no-in-process": { default: "off", description: "every target but the in-process one", example: "--no-in-process" },
  "--define": { value: "MACRO", default: "none", description: "build the reference with -DMACRO (a deliberate bug); once per macro", example: "--define MUTANT_RA_ON_STACK" },
  "--mutant": { value: "LIST", default: `all ${mutants.length}`, description: "only these mutants (src/mutants.ts)", example: `--mutant ${mutants[0]!.name}` },
  "--case-deadline": { value: "SECONDS", default: "the tier's (host 15, user 60, system 20)", description: "each case's deadline: a case still running then is a hang", example: "--case-deadline 30" },
  "--impl": { value: "LIST", default: "reference, unless --impl-cmd or --impl-binary is given", description: `what runs the spawn: ${implementationNames.join(",")}; NAME@VERSION a pinned release, NAME@all every one`, example: "--impl go@1.24,musl" },
  "--impl-cmd": { value: "COMMAND", default: "none", description: "your driver, started by this shell command (docs/protocol.md)", example: '--impl-cmd "python3 driver.py"' },
  "--impl-binary": { value: "ARCH=PATH,...", default: "none", description: "your driver's binary for each architecture (docs/protocol.md)", example: "--impl-binary amd64=./driver,arm64=./driver-arm64" },
  "--goroot": { value: "DIR", default: "none (the pinned release)", description: "with --impl go: the Go tree (a fork) the driver is built with", example: "--goroot ~/src/go" },
  "--libc-root": { value: "DIR|ARCH=DIR,...", default: "none (the pinned release)", description: "with --impl glibc or musl: the installed tree (headers, crt objects, libc.a) the driver is built against", example: "--libc-root ~/musl-install" },
  "--python": { value: "DIR", default: "none (the pinned release)", description: "the CPython tree (a fork's build tree or install prefix) the Python driver runs on; implies --impl python", example: "--python ~/src/cpython" },
  "--node": { value: "PATH", default: "none (the pinned release)", description: "the node executable (or the build or prefix directory holding it) the Node driver runs on, a libuv.so.1 beside it loaded first; implies --impl node", example: "--node ~/src/node/out/Release/node" },
  "--baseline": { value: "NAME@VERSION", default: "none", description: "replay each failure on this release: one it shares is 'baseline', and does not fail the run", example: "--baseline go@1.26" },
  "--baseline-goroot": { value: "DIR", default: "none", description: "as --baseline, with this Go tree as the baseline (e.g. your fork's upstream)", example: "--baseline-goroot ~/src/go-upstream" },
  "--baseline-libc-root": { value: "DIR|ARCH=DIR,...", default: "none", description: "as --baseline, with this installed glibc or musl tree as the baseline", example: "--baseline-libc-root ~/musl-upstream" },
  "--known": { value: "FILE", default: "each implementation's impls/NAME/known-findings.json", description: "the known findings: a failure one explains is 'known', not 'fail'", example: "--known my-findings.json" },
  "--strict-known": { default: "off", description: "a known finding that no longer reproduces (fixed) fails the run", example: "--strict-known" },
  "--junit": { value: "FILE", default: "none", description: "the results as JUnit XML too", example: "--junit reports/gate.xml" },
  "--tap": { value: "FILE", default: "none", description: "the results as TAP 14 too", example: "--tap reports/gate.tap" },
  "--summary": { value: "FILE", default: "none", description: "the results as a Markdown summary too (e.g. $GITHUB_STEP_SUMMARY)", example: '--summary "$GITHUB_STEP_SUMMARY"' },
  "--shard": { value: "I/N", default: "none (all the planned targets)", description: "only the I-th of N shares of the planned targets (then report merge)", example: "--shard 2/4" },
};

/** The allowed options' rows, in the order given, with the command's defaults (mutants: 100 runs, reports/mutants.json). */
export function runOptionTable(allowed: readonly OptionName[], defaults: Partial<RunDefaults> = {}): OptionSpec[] {
  const shown = { ...gateDefaults, ...defaults };
  return allowed.map((name) => {
    const spec = runOptionSpecs[name];
    return { ...spec, name, default: typeof spec.default === "string" ? spec.default : spec.default(shown) };
  });
}

export function parseOptions(args: string[], allowed: readonly OptionName[], defaults: Partial<RunOptions> = {}): RunOptions {
  const options: RunOptions = {
    architectures: [...architectures],
    tiers: [...tierNames],
    ...gateDefaults,
    seed: Date.now() % 2 ** 31,
    inProcess: "yes",
    defines: [],
    mutants: [...mutants],
    implementations: [],
    strictKnown: false,
    ...defaults,
  };
  let goroot: string | undefined;
  let libcRoot: string | undefined;
  let pythonRoot: string | undefined;
  let nodeBinary: string | undefined;
  const baselines: { flag: string; value: string }[] = [];
  // Every --impl item's label, over all --impl options: go@all,go@1.22 names go@1.22 twice.
  const implLabels: string[] = [];
  // In the order given: the implementations' order is their targets' order.
  for (const { name: flag, value = "" } of parseCommandLine({ name: "", summary: "", options: runOptionTable(allowed, options) }, args).options) {
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
        options.caseDeadlineMs = integerOption(flag, value, 1, "second") * 1000;
        break;
      case "--report":
        options.report = value;
        break;
      case "--property":
        options.properties = value.split(",");
        refuseRepeats(flag, options.properties);
        break;
      case "--replay-path":
        options.replayPath = replayPathOption(value);
        break;
      case "--in-process":
        options.inProcess = "only";
        break;
      case "--no-in-process":
        options.inProcess = "no";
        break;
      case "--impl":
        for (const item of value.split(",")) {
          const parsed = parseImplementationItem(item, implementationNames);
          options.implementations.push(...parsed);
          implLabels.push(...parsed.map(implementationLabel));
        }
        refuseRepeats(flag, implLabels);
        break;
      case "--impl-cmd":
        options.implementations.push({ name: "cmd", command: value });
        break;
      case "--impl-binary":
        // One label, "binary", for its targets: every driver goes in one list.
        if (options.implementations.some((implementation) => implementation.name === "binary")) throw new UsageError("--impl-binary: given twice (name every driver in one ARCH=PATH,... list)");
        options.implementations.push({ name: "binary", binaries: parseBinaryDrivers(value).map((binary) => ({ ...binary, path: resolve(binary.path) })) });
        break;
      case "--goroot":
        goroot = value;
        break;
      case "--libc-root":
        libcRoot = value;
        break;
      case "--python":
        pythonRoot = value;
        break;
      case "--node":
        nodeBinary = value;
        break;
      case "--baseline":
      case "--baseline-goroot":
      case "--baseline-libc-root":
        baselines.push({ flag, value });
        break;
      case "--known":
        options.knownFile = value;
        break;
      case "--strict-known":
        options.strictKnown = true;
        break;
      case "--junit":
      case "--tap":
      case "--summary":
        options[flag.slice(2) as "junit" | "tap" | "summary"] = value;
        break;
      case "--shard":
        options.shard = parseShard(value);
        break;
      case "--define":
        if (!/^[A-Z][A-Z0-9_]*$/.test(value)) throw new UsageError(`--define: '${value}' is not a macro name`);
        options.defines.push(value);
        break;
    }
  }
  if (goroot !== undefined) {
    if (!options.implementations.some((implementation) => implementation.name === "go")) throw new UsageError("--goroot: only with --impl go");
    const release = options.implementations.find((implementation) => implementation.name === "go" && implementation.version !== undefined);
    if (release) throw new UsageError(`--goroot: not with go@${release.version} (--goroot names the toolchain itself)`);
    if (!existsSync(join(goroot, "bin", "go"))) throw new UsageError(`--goroot: no ${join(goroot, "bin", "go")}`);
    options.implementations = options.implementations.map((implementation) => (implementation.name === "go" ? { name: "go", goroot: resolve(goroot!) } : implementation));
  }
  if (libcRoot !== undefined) options.implementations = withLibcRoot(options.implementations, libcRoot);
  if (pythonRoot !== undefined) options.implementations = withOwnBuild(options.implementations, "--python", { name: "python", pythonRoot: resolve(pythonRoot) });
  if (nodeBinary !== undefined) options.implementations = withOwnBuild(options.implementations, "--node", { name: "node", nodeBinary: resolve(nodeBinary) });
  if (options.implementations.length === 0) options.implementations = [{ name: "reference" }];
  if (baselines.length) options.baseline = baselineOf(baselines, options.implementations);
  for (const implementation of [...options.implementations, ...(options.baseline ? [options.baseline] : [])]) implementationOf(implementation).validate?.(implementation);
  if (options.defines.length && options.implementations.some((implementation) => !implementationOf(implementation).takesDefines))
    throw new UsageError("--define: only the reference implementation is built from native/ and takes -D switches");
  return options;
}

/** --python DIR, --node PATH: the runtime's driver on that build, in place of a bare --impl NAME or added when --impl has none. */
function withOwnBuild(implementations: readonly ImplementationSpec[], flag: string, tree: ImplementationSpec): ImplementationSpec[] {
  const release = implementations.find((implementation) => implementation.name === tree.name && implementation.version !== undefined);
  if (release) throw new UsageError(`${flag}: not with ${tree.name}@${release.version} (${flag} names the runtime itself)`);
  if (!implementations.some((implementation) => implementation.name === tree.name)) return [...implementations, tree];
  return implementations.map((implementation) => (implementation.name === tree.name ? tree : implementation));
}

const libcNames = ["glibc", "musl"];

/** --libc-root DIR: the one glibc or musl of --impl, built against that installed tree instead of a pinned release. */
function withLibcRoot(implementations: readonly ImplementationSpec[], libcRoot: string): ImplementationSpec[] {
  const libcs = implementations.filter((implementation) => libcNames.includes(implementation.name));
  if (libcs.length !== 1) throw new UsageError(`--libc-root: only with one of --impl glibc or --impl musl (got ${libcs.length ? libcs.map(implementationLabel).join(",") : "none"})`);
  if (libcs[0]!.version !== undefined) throw new UsageError(`--libc-root: not with ${libcs[0]!.name}@${libcs[0]!.version} (--libc-root names the libc itself)`);
  // DIR or ARCH=DIR,...: each tree is checked by the adapter's validate (harness/build/libc-root.ts).
  const absolute = absoluteLibcRootOption("--libc-root", libcRoot, (path) => resolve(path));
  return implementations.map((implementation) => (implementation === libcs[0] ? { name: implementation.name, libcRoot: absolute } : implementation));
}

/**
 * The baseline: one of --baseline NAME@VERSION (or NAME, its default release),
 * --baseline-goroot DIR, --baseline-libc-root DIR, for the one implementation
 * under test, of the same runtime.
 */
function baselineOf(given: readonly { flag: string; value: string }[], implementations: readonly ImplementationSpec[]): ImplementationSpec {
  if (given.length > 1) throw new UsageError(`${given[1]!.flag}: one baseline only (${given[0]!.flag} is given already)`);
  const { flag, value } = given[0]!;
  if (implementations.length !== 1 || implementations[0]!.name === "reference")
    throw new UsageError(`${flag}: needs exactly one implementation under test (--impl go --goroot DIR, --impl musl --libc-root DIR, ...), got ${implementations.map(implementationLabel).join(",")}`);
  const tested = implementations[0]!;
  let baseline: ImplementationSpec;
  if (flag === "--baseline") {
    const items = parseImplementationItem(value, implementationNames);
    if (items.length !== 1) throw new UsageError(`--baseline: '${value}' names ${items.length} releases; name one (NAME@VERSION)`);
    baseline = items[0]!;
  } else if (flag === "--baseline-goroot") {
    if (!existsSync(join(value, "bin", "go"))) throw new UsageError(`--baseline-goroot: no ${join(value, "bin", "go")}`);
    baseline = { name: "go", goroot: resolve(value) };
  } else {
    if (!libcNames.includes(tested.name)) throw new UsageError(`--baseline-libc-root: only when the implementation under test is glibc or musl (got ${implementationLabel(tested)})`);
    // DIR or ARCH=DIR,... as --libc-root; each tree is checked by the adapter's validate.
    baseline = { name: tested.name, libcRoot: absoluteLibcRootOption(flag, value, (path) => resolve(path)) };
  }
  if (baseline.name !== tested.name) throw new UsageError(`${flag}: the baseline of ${implementationLabel(tested)} must be ${tested.name} too (got ${implementationLabel(baseline)})`);
  if (implementationLabel(baseline) === implementationLabel(tested)) throw new UsageError(`${flag}: the baseline is the implementation under test itself (${implementationLabel(tested)})`);
  return baseline;
}

/** The properties named by --property (all when none), refusing unknown names. */
export function selectProperties<P extends { name: string }>(all: readonly P[], names: readonly string[] | undefined): P[] {
  const unknown = (names ?? []).filter((name) => !all.some((p) => p.name === name));
  if (unknown.length) throw new UsageError(`--property: unknown property '${unknown[0]}' (known: ${all.map((p) => p.name).join(",")})`);
  return names ? all.filter((p) => names.includes(p.name)) : [...all];
}

/**
 * amd64 and 386 run on the host tier when it is asked for and this machine's
 * kernel executes them (hostExecution: measured, or VFORKCHECK_HOST_EXEC),
 * the rest under qemu-user; every architecture boots on the system tier.
 * A candidate the kernel does not execute runs under qemu-user in place of
 * the host tier, and its spec says so: a target that could never start is
 * not planned. Pure: the measurement is an argument.
 */
export function planTargets(
  options: Pick<RunOptions, "architectures" | "tiers" | "inProcess" | "defines" | "caseDeadlineMs"> & { implementations?: ImplementationSpec[] },
  hostExecution: HostExecution,
): TargetSpec[] {
  return (options.implementations ?? [{ name: "reference" }]).flatMap((implementation) => {
    const served = implementationOf(implementation);
    const servedTiers = served.tiersOf?.(implementation) ?? served.tiers;
    const tiers = options.tiers.filter((tier) => servedTiers.includes(tier));
    const only = served.architecturesOf?.(implementation) ?? served.architectures;
    const architectures = options.architectures.filter((architecture) => only?.includes(architecture.name) ?? true);
    // Only the reference is built as the shared library the in-process target loads.
    const inProcess = implementation.name === "reference" ? options.inProcess : "no";
    return planImplementation({ ...options, architectures, tiers, inProcess }, implementation, servedTiers.includes("user"), hostExecution);
  });
}

function planImplementation(
  options: Pick<RunOptions, "architectures" | "tiers" | "inProcess" | "defines" | "caseDeadlineMs">,
  implementation: ImplementationSpec,
  servesUser: boolean,
  hostExecution: HostExecution,
): TargetSpec[] {
  const specs: TargetSpec[] = [];
  const base = { impl: implementationLabel(implementation), implementation, defines: options.defines, caseDeadlineMs: options.caseDeadlineMs };
  for (const architecture of options.architectures) {
    const hostAsked = options.tiers.includes("host") && architecture.x86_64KernelMayExecute;
    const host = hostAsked && runsNatively(hostExecution, architecture.name);
    if (host && options.inProcess !== "only") specs.push({ ...base, architecture, tier: "host", inProcess: false });
    if (host && architecture.name === "amd64" && options.inProcess !== "no") specs.push({ ...base, architecture, tier: "host", inProcess: true });
    const replaced = hostAsked && !host && servesUser ? { tier: "host" as const, reason: nativeExecutionOf(hostExecution, architecture.name)?.reason ?? "not measured" } : undefined;
    const user = (options.tiers.includes("user") && !hostAsked) || replaced !== undefined;
    if (user && options.inProcess !== "only") specs.push({ ...base, architecture, tier: "user", inProcess: false, ...(replaced ? { replaced } : {}) });
    if (options.tiers.includes("system") && options.inProcess !== "only") specs.push({ ...base, architecture, tier: "system", inProcess: false });
  }
  return specs;
}
