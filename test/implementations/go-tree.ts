// For the tests that gate a runtime fork: a patched copy of the default Go
// release's tree (go@1.19 from the registry, passed with --goroot), and a
// gate run of --impl go on amd64/host.
import { spawnSync } from "node:child_process";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { defaultGoRoot } from "../../harness/implementations/go.ts";

export interface GateResult {
  status: number | null;
  result: { status: string; reason: string; counterexample: string | null; replay: string | null };
  output: string;
}

/** Copies the default release's GOROOT (or `from`) into directory/go and applies each replacement to src/syscall/<file>; throws if one is not found. */
export async function patchedGoTree(directory: string, file: string, replacements: readonly (readonly [string, string])[], from?: string): Promise<string> {
  const installed = from ?? (await defaultGoRoot());
  const fork = join(directory, "go");
  cpSync(installed, fork, { recursive: true, dereference: true });
  const path = join(fork, "src", "syscall", file);
  let source = readFileSync(path, "utf8");
  for (const [from, to] of replacements) {
    if (!source.includes(from)) throw new Error(`${path}: the default Go release has no ${JSON.stringify(from)} to patch`);
    source = source.replace(from, to);
  }
  writeFileSync(path, source);
  return fork;
}

/** One property of the gate on --impl go (or a release, go@1.24), amd64/host, 30 runs, seed 1 (extra: --goroot DIR). */
export function goGate(directory: string, property: string, extra: string[], implementation = "go"): GateResult {
  const report = join(directory, `gate-${implementation}-${extra.length}.json`);
  const run = spawnSync(
    process.execPath,
    ["--import=tsx", "harness/cli/vforkcheck.ts", "gate", "--impl", implementation, ...extra, "--arch", "amd64", "--tier", "host", "--property", property, "--runs", "30", "--seed", "1", "--case-deadline", "5", "--report", report],
    { encoding: "utf8", timeout: 280_000 },
  );
  const result = (JSON.parse(readFileSync(report, "utf8")) as { results: GateResult["result"][] }).results[0]!;
  return { status: run.status, result, output: `${run.stdout}\n${run.stderr}` };
}
