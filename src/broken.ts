/**
 * "Could not test": a fault of the machine, the cache, a download, the
 * emulator's installation or the caller, not of the implementation under
 * test (LTP's TBROK). The harness throws it where such a fault is found; a
 * target it stops gets `broken` results, never `fail`, and the gate's exit
 * code says so on its own (3).
 */
export class BrokenError extends Error {
  /**
   * @param fault  what went wrong and where, in one line (the path, the space needed, the lock's holder)
   * @param remedy what the user can do about it
   */
  constructor(
    readonly fault: string,
    readonly remedy: string,
  ) {
    super(`${fault}; ${remedy}`);
  }
}

/** The gate's exit code when nothing failed but something could not be tested. */
export const brokenExitCode = 3;
