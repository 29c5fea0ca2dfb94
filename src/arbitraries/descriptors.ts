/**
 * The child's descriptor table: the numbers the spawn must map (each
 * /dev/null) and, for a driver that places it anywhere (`report_fd_any`),
 * the report descriptor. Shapes of every kind, because a leak can hide in
 * one: none, few or many entries; low, middle or high numbers; dense runs
 * or sparse picks; the report descriptor below, among or above the mapped
 * ones. An implementation that closes every unmapped descriptor below its
 * highest mapped one (Go's `Files`) hides a leaked descriptor under a table
 * whose top is always 63, and shows it under a low one.
 *
 * Every choice is a plain integer or constant that fast-check shrinks on
 * its own, and one pure function lays the table out, so a counterexample
 * shrinks towards few, low numbers with the report descriptor just above.
 */
import fc from "fast-check";

export const lowestGeneratedDescriptor = 3;
/** Leaves room under the usual RLIMIT_NOFILE of 1024 for what a driver puts above the targets (its sources and pipes). */
export const highestGeneratedDescriptor = 900;
/** The protocol's `fds` holds at most 63 numbers; the report takes one more. */
export const mostGeneratedDescriptors = 60;

export type ReportPlace = "above" | "below" | "among";

/** Sparse picks (an offset into the range each) or one dense run. */
export type TableLayout = { kind: "sparse"; offsets: number[] } | { kind: "dense"; start: number; length: number };

/** The draws a table is laid out from (pure data; no draw goes unused, so none shrinks in vain). */
export interface TablePlan {
  /** Mapped numbers lie in lowestGeneratedDescriptor..ceiling. */
  ceiling: number;
  layout: TableLayout;
  reportPlace: ReportPlace;
  reportOffset: number;
}

export interface DescriptorTable {
  descriptors: number[];
  /** Absent: the driver's fixed report descriptor (its hello's report_fd). */
  reportDescriptor?: number;
}

const pick = <T>(choices: readonly T[], offset: number): T | undefined => (choices.length ? choices[offset % choices.length] : undefined);

/** Lays a plan out as a table; `reserved` numbers (inherited, or the fixed report descriptor) are never used. */
export function layOutTable(plan: TablePlan, reserved: readonly number[], movableReport: boolean): DescriptorTable {
  const span = plan.ceiling - lowestGeneratedDescriptor + 1;
  const free = (fd: number) => !reserved.includes(fd);
  const { layout } = plan;
  const numbers =
    layout.kind === "dense"
      ? Array.from({ length: layout.length }, (_, i) => lowestGeneratedDescriptor + (layout.start % span) + i).filter((fd) => fd <= plan.ceiling)
      : layout.offsets.map((offset) => lowestGeneratedDescriptor + (offset % span));
  const descriptors = [...new Set(numbers.filter(free))].sort((a, b) => a - b);
  if (!movableReport) return { descriptors };

  const unused = (fd: number) => free(fd) && !descriptors.includes(fd);
  const lowest = descriptors[0] ?? lowestGeneratedDescriptor;
  const highest = descriptors[descriptors.length - 1] ?? lowestGeneratedDescriptor - 1;
  const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i).filter(unused);
  const places: Record<ReportPlace, () => number | undefined> = {
    above: () => pick(range(highest + 1, highest + 8), plan.reportOffset),
    below: () => pick(range(lowestGeneratedDescriptor, lowest - 1), plan.reportOffset),
    among: () => pick(range(lowest + 1, highest - 1), plan.reportOffset),
  };
  // A place the table has no room for (nothing below descriptor 3, no gap) falls back to above.
  const reportDescriptor = places[plan.reportPlace]() ?? places.above()!;
  return { descriptors, reportDescriptor };
}

/** Few entries or many (sparse ones: none too); shrinks towards few. */
const runLength = fc.oneof({ withCrossShrink: true }, fc.integer({ min: 1, max: 4 }), fc.integer({ min: 5, max: mostGeneratedDescriptors }));
const offset = fc.nat({ max: highestGeneratedDescriptor });

export const tablePlanArbitrary: fc.Arbitrary<TablePlan> = fc.record({
  // Low (3..10), middle (up to 100) or high numbers; shrinks towards low.
  ceiling: fc.oneof({ withCrossShrink: true }, fc.constant(10), fc.integer({ min: 11, max: 100 }), fc.integer({ min: 101, max: highestGeneratedDescriptor })),
  layout: fc.oneof(
    { withCrossShrink: true },
    fc
      .oneof({ withCrossShrink: true }, fc.array(offset, { maxLength: 4 }), fc.array(offset, { minLength: 5, maxLength: mostGeneratedDescriptors }))
      .map((offsets): TableLayout => ({ kind: "sparse", offsets })),
    fc.record({ start: offset, length: runLength }).map(({ start, length }): TableLayout => ({ kind: "dense", start, length })),
  ),
  reportPlace: fc.constantFrom<ReportPlace>("above", "below", "among"),
  reportOffset: offset,
});

/** Tables of every shape; with movableReport the report descriptor is drawn too. */
export function descriptorTableArbitrary(reserved: readonly number[], movableReport: boolean): fc.Arbitrary<DescriptorTable> {
  return tablePlanArbitrary.map((plan) => layOutTable(plan, reserved, movableReport));
}

/**
 * The spawning process's own extra descriptors (held without close-on-exec,
 * not mapped): numbers from 10 (below it every driver holds its runtime's
 * own: Go's epoll and event descriptors, the storm's pipe) to 299 (the
 * drivers keep their protocol descriptors at 300 and above). Where one sits
 * decides what an implementation can overwrite, so each pick is placed
 * just above the child's table (where a spawn that moves its own
 * descriptors to one past the highest mapped number puts them), low, or
 * high: from 200, where the drivers keep the sources they map from, so just
 * above those too (Go's ForkExec moves its error pipe to one past the
 * highest descriptor in Files, a source's; a shell's 251 is there as well).
 */
export const lowestParentDescriptor = 10;
export const highestParentDescriptor = 299;

export type ParentPlace = "above-table" | "low" | "high";

export interface ParentPick {
  place: ParentPlace;
  offset: number;
}

const parentPlaceBase: Record<ParentPlace, (top: number) => number> = {
  "above-table": (top) => top + 1,
  low: () => lowestParentDescriptor,
  high: () => 200,
};

/**
 * The parent's extra descriptors for a table: each pick from its place's
 * base, never a number the child's table, the fixed report descriptor or
 * the driver (`reserved`) has, nor one outside the band. Pure; sorted.
 */
export function layOutParentDescriptors(picks: readonly ParentPick[], table: DescriptorTable, reserved: readonly number[]): number[] {
  const childTable = [...table.descriptors, ...(table.reportDescriptor === undefined ? [] : [table.reportDescriptor])];
  const top = Math.max(lowestGeneratedDescriptor - 1, ...childTable);
  const numbers = picks.map((pick) => parentPlaceBase[pick.place](top) + pick.offset);
  const usable = (fd: number) => fd >= lowestParentDescriptor && fd <= highestParentDescriptor && !reserved.includes(fd) && !childTable.includes(fd);
  return [...new Set(numbers.filter(usable))].sort((a, b) => a - b);
}

/** Up to four picks, each place as likely, offsets small (just above the table: 0..3); shrinks towards none. */
export const parentPicksArbitrary: fc.Arbitrary<ParentPick[]> = fc.array(
  fc.oneof(
    fc.record({ place: fc.constant<ParentPlace>("above-table"), offset: fc.nat({ max: 3 }) }),
    fc.record({ place: fc.constant<ParentPlace>("low"), offset: fc.nat({ max: 30 }) }),
    fc.record({ place: fc.constant<ParentPlace>("high"), offset: fc.nat({ max: 60 }) }),
  ),
  { maxLength: 4 },
);
