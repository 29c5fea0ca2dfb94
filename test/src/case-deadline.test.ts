// The shrink deadline rule (src/case-deadline.ts): ten times the slowest
// passing case, at least a second, never past the full deadline; none
// measured, the full deadline.
import test from "ava";
import { CaseTimes, restartPays, secondsBetween, shrinkDeadlineMs } from "../../src/case-deadline.ts";

test("the shrink deadline is ten times the slowest passing case, at least 1 s, at most the full deadline", (t) => {
  t.is(shrinkDeadlineMs(250, 15_000), 2500);
  t.is(shrinkDeadlineMs(12.3, 15_000), 1000);
  t.is(shrinkDeadlineMs(0, 15_000), 1000);
  t.is(shrinkDeadlineMs(4000, 15_000), 15_000);
  t.is(shrinkDeadlineMs(100.01, 15_000), 1001);
  // A full deadline under a second stays what it is: the rule never lengthens it.
  t.is(shrinkDeadlineMs(10, 800), 800);
});

test("with no passing case measured the shrink keeps the full deadline", (t) => {
  t.is(shrinkDeadlineMs(undefined, 20_000), 20_000);
  t.is(shrinkDeadlineMs(new CaseTimes().slowestPassingMs, 20_000), 20_000);
});

test("a target's case times keep the slowest passing case", (t) => {
  const times = new CaseTimes();
  for (const ms of [30, 250, 40, Number.NaN, -5]) times.recordPassing(ms);
  t.is(times.slowestPassingMs, 250);
});

test("a restart pays only when the short deadline and the restart end before the full deadline", (t) => {
  t.true(restartPays(1000, 5000, 20_000));
  t.false(restartPays(1000, 7500, 8000));
  t.false(restartPays(3000, 5000, 8000));
});

test("seconds between two times are reported to a tenth", (t) => {
  t.is(secondsBetween(1000, 43_260), 42.3);
  t.is(secondsBetween(5, 5), 0);
});
