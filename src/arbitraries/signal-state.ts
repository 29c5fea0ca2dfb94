/** The parent's signal state before the spawn: blocked, ignored and handled signals (ignored wins over handled). */
import fc from "fast-check";
import { parentStateSignals, type ParentSignalState } from "../signals.ts";

export const parentSignalStateArbitrary: fc.Arbitrary<ParentSignalState> = fc
  .record({
    blocked: fc.subarray([...parentStateSignals]),
    ignored: fc.subarray([...parentStateSignals]),
    handled: fc.subarray([...parentStateSignals]),
  })
  .map(({ blocked, ignored, handled }) => ({ blocked, ignored, handled: handled.filter((signal) => !ignored.includes(signal)) }));
