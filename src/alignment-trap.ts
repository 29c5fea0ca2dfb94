/**
 * Whether a driver that died before its hello died of the emulator's
 * alignment trap rather than of the implementation: a target whose probe
 * measured that an unaligned access traps (unaligned_fixup=0: qemu-user's
 * mips delivers SIGBUS where a MIPS kernel emulates the access), and a
 * SIGBUS whose code says misaligned address (BUS_ADRALN, 1) in the driver's
 * stderr. Then the target is a skip with this reason; anything else stays
 * the failure it was. Pure: the harness passes what it saw.
 */

export interface EarlyDeath {
  /** How the driver ended: "exit 2", "signal SIGBUS" (harness/targets/containment.ts describeExit). */
  ended: string;
  /** The driver's stderr up to its death, the emulator's -strace lines among them. */
  stderrLines: readonly string[];
  /** The probe's unaligned_fixup on this target; undefined when the probe did not say. */
  unalignedFixup: boolean | undefined;
  /** The emulator the driver ran under ("qemu-mips64el"), and the architecture it emulates. */
  emulator: string;
  architecture: string;
}

const busAdraln = 1;

/**
 * What the driver itself wrote to stderr. Under qemu -strace each write(2)
 * is logged around the bytes it writes ("123 write(2,0xfb724,13)fatal error:  = 13"),
 * and Go prints a traceback piece by piece, so its lines exist only once the
 * pieces are put back together. Without such lines (strace natively traces
 * no write), the lines are the driver's own.
 */
export function writtenToStderr(lines: readonly string[]): string {
  const text = lines.join("\n");
  const pieces: string[] = [];
  for (const write of text.matchAll(/\bwrite\(2,0x[0-9a-f]+,(\d+)\)/g)) {
    const start = write.index! + write[0].length;
    pieces.push(text.slice(start, start + Number(write[1])));
  }
  return pieces.length ? pieces.join("") : text;
}

/** qemu -strace's line for a signal it delivers: "--- SIGBUS {si_signo=SIGBUS, si_code=1, si_addr=0x000000c000092d54} ---", also glued to another thread's unfinished line. */
function qemuMisalignedSigbus(lines: readonly string[]): string | undefined {
  for (const line of lines) {
    const delivered = /--- SIGBUS \{si_signo=SIGBUS, si_code=(\d+), si_addr=(0x[0-9a-f]+)\}/.exec(line);
    if (delivered && Number(delivered[1]) === busAdraln) return delivered[2];
  }
  return undefined;
}

/** Go's runtime caught it: "[signal SIGBUS: bus error code=0x1 addr=0xc000070d54 pc=0x51320]". */
function goMisalignedSigbus(written: string): string | undefined {
  const caught = /\[signal SIGBUS: bus error code=(0x[0-9a-f]+) addr=(0x[0-9a-f]+)/.exec(written);
  return caught && Number(caught[1]) === busAdraln ? caught[2] : undefined;
}

/** The Go function the fault hit: the frame after runtime.sigpanic in Go's traceback ("runtime.netpollinit()" gives "runtime.netpollinit"). */
function goFaultingFunction(written: string): string | undefined {
  const frames = written.split("\n").filter((line) => /^[\w.*()/-]+\(.*\)$/.test(line));
  const sigpanic = frames.findIndex((frame) => frame.startsWith("runtime.sigpanic("));
  const faulting = sigpanic >= 0 ? frames[sigpanic + 1] : undefined;
  // The argument list is the last parenthesis: a method's receiver has its own, "sync.(*Once).doSlow(0x197c1f0)".
  return faulting?.slice(0, faulting.lastIndexOf("("));
}

/** The skip reason when this early death is the emulator's alignment trap; undefined when it stays a failure. */
export function alignmentTrapSkipReason(death: EarlyDeath): string | undefined {
  if (death.unalignedFixup !== false) return undefined;
  const written = writtenToStderr(death.stderrLines);
  const caughtByGo = goMisalignedSigbus(written);
  // Any runtime but Go's dies of the signal; Go's catches it, prints its traceback and exits 2.
  const address = death.ended === "signal SIGBUS" ? (qemuMisalignedSigbus(death.stderrLines) ?? caughtByGo) : death.ended === "exit 2" ? caughtByGo : undefined;
  if (address === undefined) return undefined;
  const where = caughtByGo !== undefined ? goFaultingFunction(written) : undefined;
  return (
    `${death.emulator} delivers SIGBUS for an unaligned access that a ${death.architecture} Linux kernel fixes up (probe: unaligned_fixup=0); ` +
    `the driver died of it before its hello (SIGBUS BUS_ADRALN at ${address}, ${death.ended})` +
    (where ? `, in its runtime: Go's ${where}` : "")
  );
}
