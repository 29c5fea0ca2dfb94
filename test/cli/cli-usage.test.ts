// Bad input gets one line saying what, and exit code 2.
import test from "ava";
import { spawnSync } from "node:child_process";
import { hostileDriverCommand, leftBehind, runVforkcheck, uniqueMarker } from "../helpers/marked-run.ts";

function vforkcheck(args: string[]) {
  return spawnSync(process.execPath, ["--import=tsx", "harness/cli/vforkcheck.ts", ...args], { encoding: "utf8", timeout: 60_000 });
}

for (const [args, message] of [
  [["gate", "--arch", "vax"], /unknown architecture 'vax'/],
  [["gate", "--tier", "moon"], /unknown tier 'moon'/],
  [["gate", "--runs", "many"], /--runs: 'many' is not a valid integer/],
  [["gate", "--frobnicate"], /unknown option '--frobnicate'/],
  [["gate", "--property", "nope", "--arch", "amd64", "--tier", "host"], /unknown property 'nope'/],
  [["gate", "--known", "/nonexistent/known.json", "--arch", "amd64", "--tier", "host"], /^vforkcheck: --known: cannot read \/nonexistent\/known.json: ENOENT$/],
  [["gate", "--known"], /--known needs a value/],
  [["launch"], /unknown command 'launch'/],
  [["kernels"], /kernels: --update is required/],
  [["kernels", "--update", "--arch", "vax"], /unknown architecture 'vax'/],
  [["soak", "--arch", "amd64"], /soak: --seeds A-B is required/],
  [["soak", "--seeds", "9-2"], /--seeds: '9-2' is a range whose start is after its end/],
  [["soak", "--seeds", "1-2", "--arch", "vax"], /unknown architecture 'vax'/],
  [["bench", "cpu"], /bench: unknown benchmark 'cpu' \(known: memory\)/],
  [["bench", "memory", "--sizes", "64M,lots"], /--sizes: 'lots' is not a size/],
  [["bench", "memory", "--impl", "rust"], /--impl: unknown implementation 'rust' \(known: reference,fork,glibc,go,node,in-process\)/],
  [["bench", "memory", "--arch", "vax"], /unknown architecture 'vax'/],
  [["bench", "memory", "--repeat"], /--repeat needs a value/],
  [["report"], /report: unknown subcommand '' \(known: merge\)/],
  [["report", "merge", "--out", "/tmp/x.json"], /report merge: no report given/],
  [["report", "merge", "a.json"], /report merge: --out FILE is required/],
  [["report", "merge", "/nonexistent/a.json", "--out", "/tmp/x.json"], /^vforkcheck: report merge: \/nonexistent\/a\.json: cannot read: ENOENT/],
  [["report", "merge", "a.json", "--junit"], /report merge: --junit needs a value/],
  // One file for two outputs would leave only the last written: refused before the run (or the merge) starts.
  [["gate", "--arch", "amd64", "--tier", "host", "--report", "/tmp/vforkcheck-one-file.json", "--junit", "/tmp/../tmp/vforkcheck-one-file.json"], /^vforkcheck: --junit: \/tmp\/\.\.\/tmp\/vforkcheck-one-file\.json is also --report's file \(each output needs its own\)/],
  [["gate", "--arch", "amd64", "--tier", "host", "--tap", "/tmp/vforkcheck-one-file.tap", "--summary", "/tmp/vforkcheck-one-file.tap"], /^vforkcheck: --summary: \/tmp\/vforkcheck-one-file\.tap is also --tap's file/],
  [["setup", "--frobnicate"], /^vforkcheck setup: unknown argument --frobnicate; usage: vforkcheck setup /],
] as const) {
  test(`${args.join(" ")} is refused with exit 2`, (t) => {
    const run = vforkcheck([...args]);
    t.is(run.status, 2);
    t.regex(run.stderr.split("\n")[0]!, message);
  });
}

// Bad values the gate used to find only after the run (or never): refused before any target starts,
// in exactly one line naming the option, and with nothing of the run left (its driver would carry the marker).
for (const [option, value, message] of [
  ["--report", "/proc/nonexistent/x.json", /^vforkcheck: --report: cannot write \/proc\/nonexistent\/x\.json: ENOENT/],
  ["--report", "/etc/passwd/x.json", /^vforkcheck: --report: cannot write \/etc\/passwd\/x\.json: ENOTDIR/],
  ["--replay-path", "zz", /^vforkcheck: --replay-path: 'zz' is not a replay path/],
  ["--case-deadline", "0", /^vforkcheck: --case-deadline: must be at least 1 second \(got 0\)/],
  ["--junit", "/proc/nonexistent/x.xml", /^vforkcheck: --junit: cannot write \/proc\/nonexistent\/x\.xml: ENOENT/],
  ["--tap", "/etc/passwd/x.tap", /^vforkcheck: --tap: cannot write \/etc\/passwd\/x\.tap: ENOTDIR/],
  ["--summary", "/proc/nonexistent/x.md", /^vforkcheck: --summary: cannot write \/proc\/nonexistent\/x\.md: ENOENT/],
  ["--shard", "4/3", /^vforkcheck: --shard: '4\/3': need 1 <= I <= N <= 1000/],
] as const) {
  test(`gate ${option} ${value}: exit 2 at once, one line, nothing left`, async (t) => {
    const marker = uniqueMarker("usage");
    const run = runVforkcheck(["gate", "--arch", "amd64", "--tier", "host", "--runs", "2", "--impl-cmd", hostileDriverCommand("setsid-hang", marker), option, value], 60_000);
    t.is(run.status, 2, run.stderr);
    t.deepEqual(run.stderr.trimEnd().split("\n").length, 1, run.stderr);
    t.regex(run.stderr, message);
    t.deepEqual(await leftBehind(marker), []);
  });
}
