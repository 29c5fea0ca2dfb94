/**
 * The pure half of the soak: which seeds `--seeds` names, and how the
 * results of one gate per seed add up per target and property. Statuses are
 * counted by name, whatever the gate reports (pass, fail, skip, and any
 * status added later), so the tally needs no change when the gate grows one.
 */

/** What one gate result contributes to the tally (a subset of harness/run/run-property.ts's PropertyResult). */
export interface SeedResult {
  target: string;
  property: string;
  status: string;
  seed: number;
  reason: string;
  counterexample: string | null;
  replay: string | null;
}

export interface CellTally {
  target: string;
  property: string;
  /** Seeds that produced a result for this target and property. */
  seeds: number;
  /** Status name to the number of seeds that ended in it. */
  statuses: Record<string, number>;
}

export interface SoakFailure {
  seed: number;
  target: string;
  property: string;
  reason: string;
  counterexample: string | null;
  replay: string | null;
}

/** The most seeds one soak takes: a typo such as 1-1000000000 is refused instead of running for years. */
export const maximumSeeds = 100_000;

/**
 * "A-B" (inclusive), "A,B,C", or a comma list of both ("1-3,7"): the seeds
 * in the order given, each once. Throws RangeError with what is wrong.
 */
export function parseSeeds(text: string): number[] {
  const seeds: number[] = [];
  for (const item of text.split(",")) {
    const range = /^(-?\d+)-(-?\d+)$/.exec(item);
    const [first, last] = range ? [seedNumber(range[1]!, text), seedNumber(range[2]!, text)] : [seedNumber(item, text), seedNumber(item, text)];
    if (first > last) throw new RangeError(`'${item}' is a range whose start is after its end`);
    if (last - first + 1 + seeds.length > maximumSeeds) throw new RangeError(`'${text}' names more than ${maximumSeeds} seeds`);
    for (let seed = first; seed <= last; seed++) if (!seeds.includes(seed)) seeds.push(seed);
  }
  return seeds;
}

function seedNumber(text: string, whole: string): number {
  const n = /^-?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < -(2 ** 31) || n >= 2 ** 31) throw new RangeError(`'${whole}' is not a seed range A-B or a comma list of integers`);
  return n;
}

/** Per target and property, in the order they first appear, how many seeds ended in each status. */
export function tallyResults(results: readonly SeedResult[]): CellTally[] {
  const cells = new Map<string, CellTally>();
  for (const result of results) {
    const key = `${result.target}\u0000${result.property}`;
    let cell = cells.get(key);
    if (cell === undefined) cells.set(key, (cell = { target: result.target, property: result.property, seeds: 0, statuses: {} }));
    cell.seeds += 1;
    cell.statuses[result.status] = (cell.statuses[result.status] ?? 0) + 1;
  }
  return [...cells.values()];
}

/** Every result whose status is "fail", with its seed and replay line. */
export function failuresOf(results: readonly SeedResult[]): SoakFailure[] {
  return results
    .filter((result) => result.status === "fail")
    .map(({ seed, target, property, reason, counterexample, replay }) => ({ seed, target, property, reason, counterexample, replay }));
}

/** "passed/seeds", then the other statuses that occurred: "5/5", "3/5 fail 2", "0/5 skip 5". */
export function formatCell(cell: CellTally): string {
  const others = Object.entries(cell.statuses).filter(([status, count]) => status !== "pass" && count > 0);
  return [`${cell.statuses.pass ?? 0}/${cell.seeds}`, ...others.map(([status, count]) => `${status} ${count}`)].join(" ");
}

/** The header and rows of the target x property table; "-" where a target has no result for a property. */
export function tallyTable(cells: readonly CellTally[]): { header: string[]; rows: string[][] } {
  const targets = [...new Set(cells.map((cell) => cell.target))];
  const properties = [...new Set(cells.map((cell) => cell.property))];
  const rows = targets.map((target) => [target, ...properties.map((property) => {
    const cell = cells.find((c) => c.target === target && c.property === property);
    return cell ? formatCell(cell) : "-";
  })]);
  return { header: ["target", ...properties], rows };
}
