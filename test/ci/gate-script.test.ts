/**
 * ci/gate.sh, which turns action.yml's inputs (environment variables) into
 * the gate's flags: an implementation (or impl-binary) is required, an empty
 * input leaves its flag out, a value stays one argument whatever it contains
 * (no script injection), the seed of a run is its id below 2^31, the shard
 * names the reports, and the step's outputs and exit status are the gate's. The gate is a stand-in that records its argv.
 */
import test from "ava";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../../harness/process/project-root.ts";

const script = join(projectRoot, "ci", "gate.sh");

interface Run {
  status: number | null;
  stderr: string;
  argv: string[];
  outputs: Record<string, string>;
  directory: string;
}

/** Runs ci/gate.sh with only `variables` (and PATH) in its environment; the stand-in gate exits with `gateStatus`. */
function runGateScript(t: { teardown: (fn: () => void) => void }, variables: Record<string, string>, gateStatus = 0): Run {
  const directory = mkdtempSync(join(tmpdir(), "vforkcheck-gate-script-"));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  const standIn = join(directory, "vforkcheck");
  writeFileSync(standIn, `#!/bin/sh\nfor argument in "$@"; do printf '%s\\n' "$argument"; done >"${directory}/argv"\nexit ${gateStatus}\n`);
  chmodSync(standIn, 0o755);
  const result = spawnSync("bash", [script], {
    cwd: directory,
    env: { PATH: process.env.PATH!, VFORKCHECK_COMMAND: standIn, GITHUB_OUTPUT: join(directory, "outputs"), ...variables },
    encoding: "utf8",
  });
  const argvFile = join(directory, "argv");
  const outputsFile = join(directory, "outputs");
  const outputs = existsSync(outputsFile) ? Object.fromEntries(readFileSync(outputsFile, "utf8").trim().split("\n").map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)])) : {};
  return { status: result.status, stderr: result.stderr, argv: existsSync(argvFile) ? readFileSync(argvFile, "utf8").trimEnd().split("\n") : [], outputs, directory };
}

test("empty inputs leave their flags out: the implementation and the report files, named by the report name", (t) => {
  const run = runGateScript(t, { VFORKCHECK_REPORTS: "out", VFORKCHECK_REPORT_NAME: "vforkcheck", VFORKCHECK_IMPLEMENTATION: "musl", VFORKCHECK_RUNS: "", VFORKCHECK_SEED: "", VFORKCHECK_BASELINE: "", VFORKCHECK_STRICT_KNOWN: "false" });
  t.is(run.status, 0);
  t.deepEqual(run.argv, ["gate", "--report", "out/vforkcheck.json", "--junit", "out/vforkcheck.xml", "--tap", "out/vforkcheck.tap", "--summary", "out/vforkcheck.md", "--impl", "musl"]);
  t.true(existsSync(join(run.directory, "out")), "the reports directory is made before the gate runs");
  t.is(run.outputs["exit-code"], "0");
});

test("no implementation and no impl-binary: one line naming the input, exit 2, and the gate never runs", (t) => {
  const run = runGateScript(t, { VFORKCHECK_IMPLEMENTATION: "", VFORKCHECK_IMPL_BINARY: "" });
  t.is(run.status, 2);
  t.deepEqual(run.argv, [], "the gate did not start");
  t.is(run.outputs["exit-code"], "2");
  t.is(run.stderr.trimEnd().split("\n").length, 1);
  t.regex(run.stderr, /^ci\/gate\.sh: the input 'implementation' \(VFORKCHECK_IMPLEMENTATION\) is required/);
});

test("impl-binary alone gates only the drivers: no --impl, so the reference does not run beside them", (t) => {
  const run = runGateScript(t, { VFORKCHECK_IMPL_BINARY: "amd64=drivers/amd64" });
  t.is(run.status, 0);
  t.deepEqual(run.argv.slice(9), ["--impl-binary", "amd64=drivers/amd64"]);
});

test("strict-known: true adds --strict-known, false leaves it out, anything else is refused in one line with exit 2", (t) => {
  t.deepEqual(runGateScript(t, { VFORKCHECK_IMPLEMENTATION: "go", VFORKCHECK_STRICT_KNOWN: "true" }).argv.slice(9), ["--impl", "go", "--strict-known"]);
  t.deepEqual(runGateScript(t, { VFORKCHECK_IMPLEMENTATION: "go", VFORKCHECK_STRICT_KNOWN: "false" }).argv.slice(9), ["--impl", "go"]);
  const refused = runGateScript(t, { VFORKCHECK_IMPLEMENTATION: "go", VFORKCHECK_STRICT_KNOWN: "yes" });
  t.is(refused.status, 2);
  t.deepEqual(refused.argv, []);
  t.is(refused.stderr, "ci/gate.sh: the input 'strict-known' (VFORKCHECK_STRICT_KNOWN) must be true or false, not 'yes'\n");
});

test("every input maps to its flag; the run id becomes a seed below 2^31; a shard names the reports; the gate's status is the step's", (t) => {
  const runId = "12345678901";
  const run = runGateScript(
    t,
    {
      GITHUB_RUN_ID: runId,
      VFORKCHECK_IMPLEMENTATION: "go",
      VFORKCHECK_GOROOT: ".",
      VFORKCHECK_IMPL_BINARY: "arm64=drivers/arm64",
      VFORKCHECK_ARCHITECTURES: "amd64,arm64",
      VFORKCHECK_TIERS: "host,user",
      VFORKCHECK_RUNS: "7",
      VFORKCHECK_KNOWN_FINDINGS: "known.json",
      VFORKCHECK_SHARD: "3/8",
      VFORKCHECK_LIBC_ROOT: "musl-root",
      VFORKCHECK_BASELINE: "go@1.26",
      VFORKCHECK_BASELINE_GOROOT: "upstream",
      VFORKCHECK_PROPERTIES: "errno-propagates,exec-failure",
      VFORKCHECK_CASE_DEADLINE: "20",
      VFORKCHECK_STRICT_KNOWN: "true",
    },
    1,
  );
  t.is(run.status, 1);
  const seed = String(Number(runId) % 2 ** 31);
  const name = "reports/gate-shard-3-of-8";
  t.deepEqual(run.argv, [
    "gate",
    ...["--report", `${name}.json`, "--junit", `${name}.xml`, "--tap", `${name}.tap`, "--summary", `${name}.md`],
    ...["--impl", "go", "--goroot", ".", "--impl-binary", "arm64=drivers/arm64", "--arch", "amd64,arm64", "--tier", "host,user"],
    ...["--runs", "7", "--seed", seed, "--known", "known.json", "--shard", "3/8"],
    ...["--libc-root", "musl-root", "--baseline", "go@1.26", "--baseline-goroot", "upstream"],
    ...["--property", "errno-propagates,exec-failure", "--case-deadline", "20", "--strict-known"],
  ]);
  t.deepEqual(run.outputs, {
    name: "gate-shard-3-of-8",
    directory: "reports",
    report: `${name}.json`,
    junit: `${name}.xml`,
    tap: `${name}.tap`,
    summary: `${name}.md`,
    "exit-code": "1",
  });
});

test("an explicit seed wins over the run id, and a value with shell syntax stays one argument, never run", (t) => {
  const hostile = 'amd64"; touch injected; echo "$(touch injected2)';
  const run = runGateScript(t, { GITHUB_RUN_ID: "99", VFORKCHECK_SEED: "5", VFORKCHECK_IMPLEMENTATION: "go", VFORKCHECK_ARCHITECTURES: hostile }, 2);
  t.is(run.status, 2);
  t.deepEqual(run.argv.slice(9), ["--impl", "go", "--arch", hostile, "--seed", "5"]);
  t.false(existsSync(join(run.directory, "injected")) || existsSync(join(run.directory, "injected2")), "nothing in the value ran");
});

test("arguments are refused: the script takes its options from the environment only", (t) => {
  const result = spawnSync("bash", [script, "amd64", "host"], { env: { PATH: process.env.PATH! }, encoding: "utf8" });
  t.is(result.status, 2);
  t.regex(result.stderr, /^usage: .*ci\/gate\.sh/);
});
