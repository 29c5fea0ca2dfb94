/**
 * The baseline's side of regression semantics (src/baseline.ts): for one
 * planned target of the implementation under test, the same architecture
 * and tier served by the baseline, started on the first failure it is asked
 * about (a run without failures never starts it) and closed with the target.
 */
import { checkFinished } from "../../src/checks.ts";
import type { BaselineIdentity } from "../../src/baseline.ts";
import type { ImplementationSpec } from "../../src/implementation-spec.ts";
import type { PropertyDefinition } from "../../src/property.ts";
import type { SpawnCase } from "../../src/spawn-case.ts";
import { implementationLabel } from "../implementations/index.ts";
import { startTarget } from "../targets/start-target.ts";
import type { Target, TargetSpec } from "../targets/target.ts";

/** What the baseline said of a case: its problems under the property, or why it could not say. */
export type BaselineVerdict = { problems: string[] } | { unavailable: string };

const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split("\n")[0]!;

/** What a property run asks of the baseline (BaselineTarget, or a stand-in in a test). */
export interface BaselineReplay {
  readonly identity: BaselineIdentity;
  verdict(property: PropertyDefinition, spawnCase: SpawnCase, deadlineMs: number): Promise<BaselineVerdict>;
}

export class BaselineTarget implements BaselineReplay {
  private started: Promise<Target> | undefined;
  /** Set once the baseline failed to start or to answer: every later case gets the same answer. */
  private broken: string | undefined;

  constructor(
    readonly spec: TargetSpec,
    readonly identity: BaselineIdentity,
  ) {}

  /** The baseline's verdict on one case of one property, with this deadline (the step's, so that a hang reads the same on both). */
  async verdict(property: PropertyDefinition, spawnCase: SpawnCase, deadlineMs: number): Promise<BaselineVerdict> {
    if (this.broken !== undefined) return { unavailable: this.broken };
    let target: Target;
    try {
      target = await (this.started ??= startTarget(this.spec));
    } catch (error) {
      return { unavailable: (this.broken = `${this.identity.implementation} did not start on ${this.spec.architecture.name}/${this.spec.tier}: ${firstLine(error)}`) };
    }
    const skipped = property.skip?.(target);
    if (skipped !== undefined) return { unavailable: `${this.identity.implementation} skips ${property.name} here: ${skipped}` };
    try {
      const run = await target.runCase(spawnCase, Math.min(deadlineMs, target.caseDeadlineMs));
      return { problems: run.failure ? checkFinished(run) : property.check(spawnCase, run, target) };
    } catch (error) {
      // A malformed answer or a dead driver: the baseline says nothing more in this run.
      return { unavailable: (this.broken = `${this.identity.implementation} failed to run a case: ${firstLine(error)}`) };
    }
  }

  /** Closes the baseline's target if it was started (a failed start left nothing to close). */
  async close(): Promise<void> {
    const started = this.started;
    this.started = undefined;
    if (started) await started.then((target) => target.close(), () => {});
  }
}

/** The baseline's spec for a target of the implementation under test: same architecture, tier and deadline; another implementation. */
export function baselineSpec(spec: TargetSpec, baseline: ImplementationSpec): TargetSpec {
  return { ...spec, impl: implementationLabel(baseline), implementation: baseline, defines: [], inProcess: false };
}
