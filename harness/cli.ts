/**
 * The vforkcheck command line.
 *
 *   vforkcheck gate [--arch LIST] [--tier LIST] [--runs N] [--seed S] [--report FILE]
 *                   [--property LIST] [--replay-path PATH] [--in-process | --no-in-process]
 *                   [--define MACRO]   build the implementation with -DMACRO (a deliberate bug)
 *   vforkcheck build [--arch LIST]
 *
 * Exit: 0 all pass, 1 any failure, 2 bad usage, missing tools or a
 * malformed answer from an implementation (one line says what and where).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { architectures, findArchitecture, type Architecture } from "../src/architectures.ts";
import { ProtocolError } from "../src/protocol.ts";
import { loadProperties } from "../properties/index.ts";
import { buildAll } from "./build.ts";
import { runProperty, type PropertyResult } from "./run-property.ts";
import { coreTools } from "./required-tools.ts";
import { ensureTools } from "./setup.ts";
import { startTarget, targetName, tierNames, type TargetSpec, type TierName } from "./targets.ts";
import { settleWithLimit } from "./limited-parallel.ts";
import { onCleanup } from "./run-cleanup.ts";

class UsageError extends Error {}

const usage = "usage: vforkcheck gate [--arch LIST] [--tier host,user] [--runs N] [--seed S] [--report FILE] [--property LIST] [--replay-path PATH] [--in-process|--no-in-process] [--define MACRO] | vforkcheck build [--arch LIST]";

interface GateOptions {
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
}

function parseOptions(args: string[]): GateOptions {
  const options: GateOptions = { architectures: [...architectures], tiers: [...tierNames], runs: 50, seed: Date.now() % 2 ** 31, report: "reports/gate.json", inProcess: "yes", defines: [] };
  const value = (flag: string, i: number) => {
    const v = args[i + 1];
    if (v === undefined || v.startsWith("--")) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!;
    switch (flag) {
      case "--arch":
        options.architectures = value(flag, i).split(",").map((name) => {
          const found = findArchitecture(name);
          if (!found) throw new UsageError(`--arch: unknown architecture '${name}' (known: ${architectures.map((a) => a.name).join(",")})`);
          return found;
        });
        i++;
        break;
      case "--tier":
        options.tiers = value(flag, i).split(",").map((name) => {
          if (!tierNames.includes(name as TierName)) throw new UsageError(`--tier: unknown tier '${name}' (known: ${tierNames.join(",")}; system comes with issue 4)`);
          return name as TierName;
        });
        i++;
        break;
      case "--runs":
      case "--seed": {
        const n = Number(value(flag, i));
        if (!Number.isInteger(n) || n < (flag === "--runs" ? 1 : -(2 ** 31)) || n >= 2 ** 31) throw new UsageError(`${flag}: '${args[i + 1]}' is not a valid integer`);
        if (flag === "--runs") options.runs = n;
        else options.seed = n;
        i++;
        break;
      }
      case "--report":
        options.report = value(flag, i);
        i++;
        break;
      case "--property":
        options.properties = value(flag, i).split(",");
        i++;
        break;
      case "--replay-path":
        options.replayPath = value(flag, i);
        i++;
        break;
      case "--in-process":
        options.inProcess = "only";
        break;
      case "--define":
        if (!/^[A-Z][A-Z0-9_]*$/.test(value(flag, i))) throw new UsageError(`--define: '${args[i + 1]}' is not a macro name`);
        options.defines.push(args[++i]!);
        break;
      case "--no-in-process":
        options.inProcess = "no";
        break;
      default:
        throw new UsageError(`unknown option '${flag}'`);
    }
  }
  return options;
}

/** amd64 and 386 run on the host tier when it is asked for, the rest under qemu-user. */
export function planTargets(options: Pick<GateOptions, "architectures" | "tiers" | "inProcess" | "defines">): TargetSpec[] {
  const specs: TargetSpec[] = [];
  const base = { impl: "reference", defines: options.defines };
  for (const architecture of options.architectures) {
    const host = options.tiers.includes("host") && architecture.runsOnAmd64Host;
    if (host && options.inProcess !== "only") specs.push({ ...base, architecture, tier: "host", inProcess: false });
    if (host && architecture.name === "amd64" && options.inProcess !== "no") specs.push({ ...base, architecture, tier: "host", inProcess: true });
    const user = options.tiers.includes("user") && (!architecture.runsOnAmd64Host || !options.tiers.includes("host"));
    if (user && options.inProcess !== "only") specs.push({ ...base, architecture, tier: "user", inProcess: false });
  }
  return specs;
}

function printTable(results: PropertyResult[], properties: string[]): void {
  const targets = [...new Set(results.map((r) => r.target))];
  const width = Math.max(20, ...targets.map((t) => t.length + 2));
  const column = Math.max(...properties.map((p) => p.length)) + 2;
  const lines = [`${"target".padEnd(width)}${properties.map((p) => p.padEnd(column)).join("")}`];
  for (const target of targets) {
    lines.push(`${target.padEnd(width)}${properties.map((p) => (results.find((r) => r.target === target && r.property === p)?.status ?? "-").padEnd(column)).join("")}`);
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

function writeReport(file: string, seed: number, results: PropertyResult[], partial = false): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(partial ? { seed, partial, results } : { seed, results }, null, 2)}\n`);
}

async function gate(args: string[]): Promise<number> {
  const options = parseOptions(args);
  await ensureTools(coreTools());
  const all = await loadProperties();
  const properties = options.properties ? all.filter((p) => options.properties!.includes(p.name)) : all;
  const unknown = (options.properties ?? []).filter((name) => !all.some((p) => p.name === name));
  if (unknown.length) throw new UsageError(`--property: unknown property '${unknown[0]}' (known: ${all.map((p) => p.name).join(",")})`);
  const specs = planTargets(options);
  if (!specs.length) throw new UsageError("no target matches the --arch and --tier given");
  process.stderr.write(`vforkcheck gate: seed ${options.seed}, ${options.runs} runs, ${specs.length} targets, ${properties.length} properties\n`);
  await buildAll([...new Set(specs.map((s) => s.architecture.name))], (p) => p.state === "failed" && process.stderr.write(`build ${p.arch} failed: ${p.error.message}\n`));
  const results: PropertyResult[] = [];
  // Stopped by a signal: keep the results already obtained, marked as partial.
  const writePartialReport = onCleanup(() => {
    writeReport(options.report, options.seed, results, true);
    process.stderr.write(`vforkcheck: stopped early; partial report (${results.length} results): ${options.report}\n`);
  });
  let malformed: ProtocolError | undefined;
  await settleWithLimit(specs, 2, async (spec) => {
    const name = targetName(spec);
    let target;
    try {
      target = await startTarget(spec);
    } catch (error) {
      for (const property of properties)
        results.push({ arch: spec.architecture.name, tier: spec.tier, impl: spec.impl, target: name, property: property.name, status: "fail", runs: 0, reason: `target did not start: ${(error as Error).message}`, counterexample: null, replay: null, seed: options.seed });
      return;
    }
    try {
      for (const property of properties) {
        let cases = 0;
        const started = Date.now();
        const result = await runProperty(target, property, {
          runs: options.runs,
          seed: options.seed,
          path: options.replayPath,
          replayPrefix: `npx vforkcheck gate${options.defines.map((d) => ` --define ${d}`).join("")}`,
          onCase: () => {
            cases++;
            if (cases % 10 === 0) process.stderr.write(`[${name}] ${property.name}: ${cases} cases\n`);
          },
        });
        results.push(result);
        process.stderr.write(`[${name}] ${property.name}: ${result.status} (${result.runs} runs, ${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
        if (result.status === "fail") process.stderr.write(`  ${result.reason}\n  counterexample: ${result.counterexample}\n  replay: ${result.replay}\n`);
      }
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      malformed = error;
    } finally {
      await target.close();
    }
  });
  writePartialReport.cancel();
  writeReport(options.report, options.seed, results);
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
  if (command === "build") {
    const options = parseOptions(args);
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
