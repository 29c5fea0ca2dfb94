/**
 * The parent's signal state before the spawn: blocked, ignored and handled
 * signals (ignored wins over handled). kept: signals whose disposition the
 * implementation keeps for itself (its hello's signals_kept); they may be
 * blocked, never ignored or handled.
 */
import fc from "fast-check";
import { parentStateSignals, type ParentSignalState, type SignalName } from "../signals.ts";

export function parentSignalStateArbitrary(kept: readonly SignalName[] = []): fc.Arbitrary<ParentSignalState> {
  const disposable = parentStateSignals.filter((signal) => !kept.includes(signal));
  return fc
    .record({
      blocked: fc.subarray([...parentStateSignals]),
      ignored: fc.subarray(disposable),
      handled: fc.subarray(disposable),
    })
    .map(({ blocked, ignored, handled }) => ({ blocked, ignored, handled: handled.filter((signal) => !ignored.includes(signal)) }));
}
