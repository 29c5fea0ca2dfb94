// The run's progress: k/N of targets, and an estimate of the time left from the tiers' expected
// costs, corrected by what finished targets took; at a moderate rate.
import test from "ava";
import { formatSecondsLeft, RunProgress, throttle } from "../../src/progress.ts";
import { formatResultTable } from "../../src/result-table.ts";

const cost: Record<string, number> = { system: 60, user: 10, host: 8 };
const targets = [
  { name: "arm64/system", tier: "system", alone: false },
  { name: "arm64/user", tier: "user", alone: false },
  { name: "amd64/host", tier: "host", alone: false },
  { name: "amd64/host/in-process", tier: "host", alone: true },
];

test("before anything runs: the tiers' costs two at a time (at least the longest), then the target that runs alone", (t) => {
  const progress = new RunProgress(targets, (tier) => cost[tier]!, 2);
  t.is(progress.secondsLeft(0), 60 + 8);
  t.is(progress.estimate(0), "about 1 min left (estimate)");
});

test("k/N counts the targets started; a finished target's pace corrects the others' costs; a running one goes by its own rate", (t) => {
  const progress = new RunProgress(targets, (tier) => cost[tier]!, 2);
  t.is(progress.start("arm64/system", 0), "target 1/4");
  t.is(progress.start("arm64/user", 0), "target 2/4");
  // arm64/user took twice its tier's cost: the rest are expected to as well.
  progress.advance("arm64/user", 1, 20_000);
  // arm64/system has done half its properties in 30 s: 30 s more.
  progress.advance("arm64/system", 0.5, 30_000);
  t.is(progress.secondsLeft(30_000), Math.max((30 + 16) / 2, 30, 16) + 16);
  progress.advance("arm64/system", 1, 60_000);
  t.is(progress.start("amd64/host", 60_000), "target 3/4");
});

test("seconds left as a person says them; a line at most once per interval", (t) => {
  t.deepEqual([3, 42, 61, 3600 + 600].map(formatSecondsLeft), ["5 s", "40 s", "1 min", "1 h 10 min"]);
  let now = 0;
  const due = throttle(10_000, () => now);
  const seen: number[] = [];
  for (now = 0; now <= 35_000; now += 1_000) if (due()) seen.push(now);
  t.deepEqual(seen, [10_000, 20_000, 30_000]);
});

test("the table's legend wraps between entries, never inside one", (t) => {
  const names = ["concurrent-spawns", "descriptor-table", "environment", "errno-propagates", "namespace-fallback", "parent-resumes", "pidfd", "signal-state", "signal-storm"];
  const rows = names.map((property) => ({ arch: "amd64", tier: "host", impl: "reference", target: "amd64/host", property, status: "pass" as const, reason: "", counterexample: null, replay: null }));
  const legend = formatResultTable(rows, names, [], 60).split("\n").slice(2);
  t.true(legend.length > 1);
  for (const line of legend) t.regex(line, /^(properties: )?([a-z-]+ [a-z-]+(,|$) ?)+$/, line);
});
