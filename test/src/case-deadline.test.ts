// The shrink deadline rule (src/case-deadline.ts): five times the slowest of
// the latest passing cases, at least a second, never past the full deadline;
// none measured, the full deadline. And the budget of the shrink steps that
// get no answer.
import test from "ava";
import { CaseTimes, HangBudget, recentPassingCases, restartPays, secondsBetween, shrinkDeadlineMs } from "../../src/case-deadline.ts";

test("the shrink deadline is five times the slowest recent passing case, at least 1 s, at most the full deadline", (t) => {
  t.is(shrinkDeadlineMs(500, 15_000), 2500);
  t.is(shrinkDeadlineMs(12.3, 15_000), 1000);
  t.is(shrinkDeadlineMs(0, 15_000), 1000);
  t.is(shrinkDeadlineMs(4000, 15_000), 15_000);
  t.is(shrinkDeadlineMs(200.01, 15_000), 1001);
  // A full deadline under a second stays what it is: the rule never lengthens it.
  t.is(shrinkDeadlineMs(10, 800), 800);
});

test("with no passing case measured the shrink keeps the full deadline", (t) => {
  t.is(shrinkDeadlineMs(undefined, 20_000), 20_000);
  t.is(shrinkDeadlineMs(new CaseTimes().slowestRecentMs, 20_000), 20_000);
});

test("a target's case times give the slowest of the latest passing cases, so a slow case long past no longer counts", (t) => {
  const times = new CaseTimes();
  for (const ms of [30, 2500, 40, Number.NaN, -5]) times.recordPassing(ms);
  t.is(times.slowestRecentMs, 2500);
  // A busy minute's 2.5 s case, then quick ones: once it is out of the window the deadline follows the quick ones.
  for (let i = 0; i < recentPassingCases - 2; i++) times.recordPassing(60);
  t.is(times.slowestRecentMs, 2500, "still among the latest");
  times.recordPassing(60);
  t.is(times.slowestRecentMs, 60);
  t.is(shrinkDeadlineMs(times.slowestRecentMs, 15_000), 1000);
  // And load rising now lengthens it at once.
  times.recordPassing(900);
  t.is(shrinkDeadlineMs(times.slowestRecentMs, 15_000), 4500);
});

test("the hang budget counts only the shrink steps that got no answer, and says what it cost once a step was skipped", (t) => {
  const budget = new HangBudget(10_000);
  budget.record(4000, false);
  budget.record(9000, true);
  budget.record(Number.NaN, false);
  t.false(budget.spent, "an answered step costs nothing, however slow");
  t.is(budget.note(), undefined);
  budget.record(6000, false);
  t.true(budget.spent);
  t.is(budget.note(), undefined, "nothing was skipped yet");
  budget.skipped++;
  t.is(budget.note(), "the shrink stopped once 2 unanswered steps had cost 10 s (its 10 s budget for hangs): the counterexample is the smallest failing case by then, maybe not the smallest there is");
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
