/**
 * `--shard I/N`: which of a run's planned targets the I-th of N CI jobs runs.
 * Deterministic (the same plan deals the same way on every job) and balanced
 * by expected cost, so that no job waits long for the slowest. Pure.
 */
import { UsageError } from "./usage-error.ts";

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  if (!match) throw new UsageError(`--shard: '${text}' is not I/N (e.g. 2/3)`);
  const [index, count] = [Number(match[1]), Number(match[2])];
  if (count < 1 || count > 1000 || index < 1 || index > count) throw new UsageError(`--shard: '${text}': need 1 <= I <= N <= 1000`);
  return { index, count };
}

/**
 * The 0-based shard of each unit (units in plan order, each with its
 * expected cost): the costliest first, each to the least loaded shard (on a
 * tie, the one with fewer units, then the lower index). The longest
 * processing time rule: at most 4/3 of the best balance.
 */
export function dealShards(costs: readonly number[], count: number): number[] {
  const load = Array.from({ length: count }, () => ({ cost: 0, units: 0 }));
  const shardOf: number[] = new Array(costs.length);
  const order = costs.map((cost, index) => ({ cost, index })).sort((a, b) => b.cost - a.cost || a.index - b.index);
  for (const unit of order) {
    let best = 0;
    for (let shard = 1; shard < count; shard++) {
      const [candidate, current] = [load[shard]!, load[best]!];
      if (candidate.cost < current.cost || (candidate.cost === current.cost && candidate.units < current.units)) best = shard;
    }
    load[best]!.cost += unit.cost;
    load[best]!.units += 1;
    shardOf[unit.index] = best;
  }
  return shardOf;
}
