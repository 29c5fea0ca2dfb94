/**
 * The parent's signal state before the spawn: blocked, ignored and handled
 * signals (ignored wins over handled). kept: signals whose disposition the
 * implementation keeps for itself (its hello's signals_kept); they may be
 * blocked, never ignored or handled.
 */
import fc from "fast-check";
import { parentStateSignals, type HandlerFlag, type ParentSignalState, type SignalName } from "../signals.ts";

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

/**
 * The flags the parent's handlers are installed with: each of SA_NODEFER
 * and SA_ONSTACK as often as not; SA_RESTART left out withoutRestartWeight
 * times as often as kept. Shrinks towards ["restart"], the driver's flags
 * without the field.
 */
export function handlerFlagsArbitrary(withoutRestartWeight = 1): fc.Arbitrary<HandlerFlag[]> {
  const withoutRestart = fc.oneof({ weight: 1, arbitrary: fc.constant(false) }, { weight: withoutRestartWeight, arbitrary: fc.constant(true) });
  return fc
    .record({ withoutRestart, nodefer: fc.boolean(), onstack: fc.boolean() })
    .map(({ withoutRestart, nodefer, onstack }) => [
      ...(withoutRestart ? [] : ["restart" as const]),
      ...(nodefer ? ["nodefer" as const] : []),
      ...(onstack ? ["onstack" as const] : []),
    ]);
}
