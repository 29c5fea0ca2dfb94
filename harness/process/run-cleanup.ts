/**
 * What a run leaves behind is undone here, however the run ends: normally, on an
 * error, or on SIGINT/SIGTERM/SIGHUP. Fixture directories and child process
 * trees register an undo; a signal runs every undo, then exits 128+signal.
 */
import { killProcessTree, waitUntilDead } from "./process-tree.ts";

const undoes = new Set<() => void>();
let installed = false;

function runAll(): void {
  for (const undo of [...undoes].reverse()) {
    undoes.delete(undo);
    try {
      undo();
    } catch {
      /* best effort: one failed undo must not keep the others from running */
    }
  }
}

const signalNumbers = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;

function install(): void {
  if (installed) return;
  installed = true;
  process.on("exit", runAll);
  for (const [signal, number] of Object.entries(signalNumbers)) {
    process.once(signal, () => {
      process.stderr.write(`vforkcheck: ${signal}: cleaning up and stopping\n`);
      runAll();
      // Nothing outlives the run, not even for the moment a SIGKILLed victim takes to die.
      waitUntilDead(killProcessTree(process.pid, false), 5000);
      process.exit(128 + number);
    });
  }
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
