// The soak: seed parsing and the tally (pure), then small soaks of the real
// gate on amd64/host: all seeds pass, a mutant fails them, a SIGTERM keeps
// the seeds done.
import test from "ava";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { failuresOf, formatCell, parseSeeds, tallyResults, tallyTable, type SeedResult } from "../../src/soak-tally.ts";
import { parseSoakArguments, seedReportPath } from "../../harness/run/soak.ts";
import { vforkcheckCli } from "../helpers/gate-cli.ts";
import { scratchDirectory } from "../helpers/scratch-directory.ts";

test("parseSeeds: a range, a list, both, each seed once, in order", (t) => {
  t.deepEqual(parseSeeds("1-5"), [1, 2, 3, 4, 5]);
  t.deepEqual(parseSeeds("7"), [7]);
  t.deepEqual(parseSeeds("3,9,4"), [3, 9, 4]);
  t.deepEqual(parseSeeds("1-3,2,10-11"), [1, 2, 3, 10, 11]);
  t.deepEqual(parseSeeds("-2-1"), [-2, -1, 0, 1]);
});

for (const bad of ["", "a-b", "1-", "5-3", "1.5", "1,,2", "1-2-3", "0-100000", "2147483648"]) {
  test(`parseSeeds refuses '${bad}'`, (t) => {
    t.throws(() => parseSeeds(bad), { instanceOf: RangeError });
  });
}

test("parseSoakArguments splits --seeds off and leaves the gate's options as they were", (t) => {
  t.deepEqual(parseSoakArguments(["--arch", "amd64", "--seeds", "2-3", "--runs", "5"]), { seeds: [2, 3], gateArguments: ["--arch", "amd64", "--runs", "5"] });
  t.throws(() => parseSoakArguments(["--arch", "amd64"]), { message: /--seeds A-B is required/ });
  t.throws(() => parseSoakArguments(["--seeds", "4-1"]), { message: /^--seeds: '4-1' is a range whose start is after its end$/ });
  t.throws(() => parseSoakArguments(["--seeds", "1-2", "--seed", "3"]), { message: /takes --seeds/ });
  t.is(seedReportPath("reports/soak.json", 4), join("reports", "soak", "gate-seed-4.json"));
  t.is(seedReportPath("/tmp/x/riscv.json", 4), join("/tmp/x", "riscv", "gate-seed-4.json"), "another soak's seeds go elsewhere");
});

function result(seed: number, target: string, property: string, status: string): SeedResult {
  return { seed, target, property, status, reason: `${status} at ${seed}`, counterexample: status === "fail" ? "{}" : null, replay: status === "fail" ? `replay ${seed}` : null };
}

test("tallyResults counts every status by name, whatever it is, per target and property", (t) => {
  const results = [
    result(1, "amd64/host", "parent-resumes", "pass"),
    result(1, "amd64/host", "errno-propagates", "fail"),
    result(2, "amd64/host", "parent-resumes", "pass"),
    result(2, "amd64/host", "errno-propagates", "known"),
    result(3, "amd64/host", "parent-resumes", "fail"),
    result(3, "amd64/host", "errno-propagates", "pass"),
    result(1, "arm64/user", "parent-resumes", "skip"),
  ];
  const cells = tallyResults(results);
  t.deepEqual(cells, [
    { target: "amd64/host", property: "parent-resumes", seeds: 3, statuses: { pass: 2, fail: 1 } },
    { target: "amd64/host", property: "errno-propagates", seeds: 3, statuses: { fail: 1, known: 1, pass: 1 } },
    { target: "arm64/user", property: "parent-resumes", seeds: 1, statuses: { skip: 1 } },
  ]);
  t.is(formatCell(cells[0]!), "2/3 fail 1");
  t.is(formatCell(cells[2]!), "0/1 skip 1");
  t.deepEqual(tallyTable(cells), {
    header: ["target", "parent-resumes", "errno-propagates"],
    rows: [
      ["amd64/host", "2/3 fail 1", "1/3 fail 1 known 1"],
      ["arm64/user", "0/1 skip 1", "-"],
    ],
  });
  t.deepEqual(failuresOf(results).map((f) => [f.seed, f.property, f.replay]), [[1, "errno-propagates", "replay 1"], [3, "parent-resumes", "replay 3"]]);
});

const smallSoak = ["soak", "--arch", "amd64", "--tier", "host", "--no-in-process", "--property", "parent-resumes", "--runs", "5"];

const soak = (args: string[]) => vforkcheckCli(args, 180_000);

interface SoakReport {
  seeds: number[];
  partial?: boolean;
  tally: { target: string; property: string; seeds: number; statuses: Record<string, number> }[];
  failures: { seed: number; target: string; property: string; replay: string | null; counterexample: string | null }[];
  perSeed: { seed: number; exitCode: number; wallSeconds: number; report: string }[];
  /** A stopped soak's running seed, and where its gate writes its own report. */
  inProgress?: { seed: number; report: string };
  wallSeconds: number;
}

test("a two-seed soak of the reference passes both seeds, one gate report each", async (t) => {
  const report = join(scratchDirectory(t, "soak-"), "soak.json");
  const run = await soak([...smallSoak, "--seeds", "1-2", "--report", report]);
  t.is(run.status, 0, run.stderr);
  t.regex(run.stdout, /^amd64\/host\s+2\/2$/m);
  t.regex(run.stderr, /soak: seed 1 of 2 \(--seed 1\)/);
  const soakReport = JSON.parse(readFileSync(report, "utf8")) as SoakReport;
  t.deepEqual(soakReport.seeds, [1, 2]);
  t.deepEqual(soakReport.tally, [{ target: "amd64/host", property: "parent-resumes", seeds: 2, statuses: { pass: 2 } }]);
  t.deepEqual(soakReport.failures, []);
  t.deepEqual(soakReport.perSeed.map((s) => [s.seed, s.exitCode]), [[1, 0], [2, 0]]);
  t.true(soakReport.wallSeconds > 0);
  for (const seed of [1, 2]) {
    const gateReport = JSON.parse(readFileSync(seedReportPath(report, seed), "utf8")) as { seed: number; results: { status: string }[] };
    t.is(gateReport.seed, seed);
    t.deepEqual(gateReport.results.map((r) => r.status), ["pass"]);
  }
});

test("a soak of MUTANT_CLOBBERED_LOCAL fails its seeds: exit 1, each failure's replay line with its seed", async (t) => {
  const report = join(scratchDirectory(t, "soak-"), "soak.json");
  const run = await soak([...smallSoak, "--define", "MUTANT_CLOBBERED_LOCAL", "--seeds", "3,4", "--report", report]);
  t.is(run.status, 1, run.stderr);
  t.regex(run.stdout, /^amd64\/host\s+0\/2 fail 2$/m);
  for (const seed of [3, 4]) t.regex(run.stdout, new RegExp(`^FAIL seed ${seed} amd64/host parent-resumes: replay with: npx vforkcheck gate --define MUTANT_CLOBBERED_LOCAL .*--seed ${seed} --replay-path \\S+`, "m"));
  const soakReport = JSON.parse(readFileSync(report, "utf8")) as SoakReport;
  t.deepEqual(soakReport.failures.map((f) => [f.seed, f.target, f.property]), [[3, "amd64/host", "parent-resumes"], [4, "amd64/host", "parent-resumes"]]);
  t.true(soakReport.failures.every((f) => f.counterexample !== null && f.replay !== null));
  t.deepEqual(soakReport.perSeed.map((s) => s.exitCode), [1, 1]);
});

test("a soak stopped by SIGTERM keeps the seeds it finished, marked partial", async (t) => {
  const report = join(scratchDirectory(t, "soak-"), "soak.json");
  const child = spawn(process.execPath, ["--import=tsx", "harness/cli/vforkcheck.ts", ...smallSoak, "--seeds", "1-200", "--report", report], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  let stopped = false;
  const deadline = setTimeout(() => child.kill("SIGKILL"), 120_000);
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
    // Once: this is about what the soak keeps (repeated signals: test/process/ctrl-c.test.ts).
    if (!stopped && stderr.includes("soak: seed 3 of 200")) stopped = child.kill("SIGTERM");
  });
  const code = await exit;
  clearTimeout(deadline);
  t.is(code, 128 + 15, stderr);
  const soakReport = JSON.parse(readFileSync(report, "utf8")) as SoakReport;
  t.true(soakReport.partial);
  t.deepEqual(soakReport.perSeed.map((s) => s.seed).slice(0, 2), [1, 2]);
  t.true(soakReport.perSeed.length < 200);
  t.true(soakReport.tally[0]!.seeds >= 2);
  t.is(soakReport.inProgress?.seed, soakReport.perSeed.length + 1, "the seed cut short is named");
});
