// The clean-up runs once however many signals come (a terminal's Ctrl-C
// reaches the harness twice), runs every undo even when one fails, and says
// which failed.
import test from "ava";
import { spawnSync } from "node:child_process";

/**
 * A process that registers three undoes, then sends itself `signals` back to back and lingers. The clean-up runs the
 * latest first: it sends `during` to itself (a second Ctrl-C arriving while the clean-up runs), the next fails, and
 * the first says it ran.
 */
function stoppedBy(signals: NodeJS.Signals[], during: NodeJS.Signals[] = []) {
  const script = `
    import { onCleanup } from "./harness/process/run-cleanup.ts";
    onCleanup(() => process.stdout.write("first undo ran\\n"));
    onCleanup(() => { throw new Error("cannot write the partial report: ENOSPC"); });
    onCleanup(() => { for (const signal of ${JSON.stringify(during)}) process.kill(process.pid, signal); });
    for (const signal of ${JSON.stringify(signals)}) process.kill(process.pid, signal);
    setTimeout(() => process.stdout.write("not stopped\\n"), 10_000);
  `;
  return spawnSync(process.execPath, ["--import=tsx", "--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000 });
}

test("SIGINT, and two more while the clean-up runs: one clean-up, every undo, exit 130", (t) => {
  const run = stoppedBy(["SIGINT"], ["SIGINT", "SIGINT"]);
  t.is(run.status, 130, run.stderr);
  t.is(run.stderr.match(/cleaning up/g)?.length, 1, run.stderr);
  t.is(run.stdout, "first undo ran\n");
  t.regex(run.stderr, /^vforkcheck: clean-up: cannot write the partial report: ENOSPC$/m);
});

test("SIGTERM then SIGHUP: the first signal decides the exit code (143)", (t) => {
  const run = stoppedBy(["SIGTERM"], ["SIGHUP"]);
  t.is(run.status, 143, run.stderr);
  t.regex(run.stderr, /SIGTERM: cleaning up/);
  t.notRegex(run.stderr, /SIGHUP/);
});
