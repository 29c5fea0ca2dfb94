/**
 * What a run leaves behind is undone here, however the run ends: normally, on an
 * error, or on SIGINT/SIGTERM/SIGHUP. Fixture directories, child process trees
 * and partial reports register an undo; a signal runs every undo (the latest
 * registered first, so a partial report is written before the drivers are
 * killed), then exits 128+signal.
 *
 * Repeated signals never cut the clean-up short. Ctrl-C at a terminal reaches
 * bin/vforkcheck.js and this process at once, and the wrapper passes its copy
 * on, so a second SIGINT is the rule. The handlers stay installed for the whole
 * run (with `once`, the first signal would put back the default action and the
 * second would kill the process in the middle of writing its report), and the
 * clean-up is synchronous and bounded (a few seconds at most), so a second or
 * third signal only waits for it. To stop without a report, SIGKILL: the
 * earlier report at the path stays whole, as reports are renamed into place.
 */
import { killProcessTree, waitUntilDead } from "./process-tree.ts";

const undoes = new Set<() => void>();
let installed = false;

function runAll(): void {
  for (const undo of [...undoes].reverse()) {
    undoes.delete(undo);
    try {
      undo();
    } catch (error) {
      // One failed undo must not keep the others from running; it is said, as a partial report that could not be written must be.
      process.stderr.write(`vforkcheck: clean-up: ${(error as Error).message}\n`);
    }
  }
}

const signalNumbers = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;

/**
 * The first signal cleans up and exits, synchronously: a later one (the
 * wrapper's copy of a Ctrl-C) is caught while it runs and never handled.
 */
function stop(signal: NodeJS.Signals, why = signal as string): void {
  process.stderr.write(`vforkcheck: ${why}: cleaning up and stopping\n`);
  runAll();
  // Nothing outlives the run, not even for the moment a SIGKILLed victim takes to die.
  waitUntilDead(killProcessTree(process.pid, false), 5000);
  process.exit(128 + signalNumbers[signal as keyof typeof signalNumbers]);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on("exit", runAll);
  for (const signal of Object.keys(signalNumbers) as NodeJS.Signals[]) process.on(signal, (received) => stop(received));
  watchWrapper();
}

/**
 * Started by bin/vforkcheck.js (which names itself in VFORKCHECK_WRAPPER_PID),
 * this process is reparented when the wrapper dies of a SIGKILL it cannot
 * pass on (a CI runner's hard timeout, an OOM kill): it then stops as on
 * SIGTERM, with its partial report, instead of running on unseen.
 */
function watchWrapper(): void {
  const wrapper = Number(process.env.VFORKCHECK_WRAPPER_PID);
  if (!wrapper || process.ppid !== wrapper) return;
  setInterval(() => {
    if (process.ppid !== wrapper) stop("SIGTERM", `the vforkcheck command that started this run (pid ${wrapper}) was killed`);
  }, 500).unref();
}

export interface Cleanup {
  /** Undo now (once) and forget it. */
  run(): void;
  /** Forget it without undoing. */
  cancel(): void;
}

/** Register an undo that runs at exit or on a signal, unless it was run or cancelled before. */
export function onCleanup(undo: () => void): Cleanup {
  install();
  undoes.add(undo);
  return {
    run: () => {
      if (undoes.delete(undo)) undo();
    },
    cancel: () => {
      undoes.delete(undo);
    },
  };
}
