/**
 * The pure parts of `npm run bench:selftest` (ci/selftest.ts, docs/selftest.md):
 * the time goals and their verdicts, and where a run's time went, read from
 * what the run printed (each line stamped when it arrived) and from the
 * gate's report. Nothing here runs anything or reads a file.
 */

/** The four timed runs, in the order the self-test makes them. */
export const selftestRuns = ["fresh-test", "warm-test", "fresh-gate", "warm-gate"] as const;
export type SelftestRunName = (typeof selftestRuns)[number];

/** The goals, in seconds: npm test fresh 10 min, warm 5; the gate (seed 1) fresh 8 min, warm 5. */
export const selftestGoals: Record<SelftestRunName, number> = {
  "fresh-test": 600,
  "warm-test": 300,
  "fresh-gate": 480,
  "warm-gate": 300,
};

/** A line of a run's output and when it arrived, in milliseconds from the run's start. */
export interface TimedLine {
  at_ms: number;
  line: string;
}

const round1 = (value: number) => Math.round(value * 10) / 10;
const seconds = (ms: number) => round1(ms / 1000);

export interface RunOutcome {
  wall_s: number;
  /** Exit status; null when a signal ended it. */
  status: number | null;
  /** Killed at its deadline. */
  timedOut: boolean;
}

export interface Verdict {
  /** The goal is met only by a run that succeeded within it. */
  met: boolean;
  verdict: string;
}

/** The verdict on one run against its goal: met, missed (by how much), failed or killed. */
export function judgeRun(outcome: RunOutcome, goal_s: number, deadline_s: number): Verdict {
  const wall = outcome.wall_s;
  if (outcome.timedOut) return { met: false, verdict: `killed at its deadline (${deadline_s} s): goal ${goal_s} s missed` };
  if (outcome.status !== 0) {
    const why = outcome.status === null ? "ended by a signal" : `exit ${outcome.status}`;
    return { met: false, verdict: `failed (${why}) after ${wall} s: goal ${goal_s} s not met${wall > goal_s ? ", and over it in time too" : ""}` };
  }
  if (wall <= goal_s) return { met: true, verdict: `met: ${wall} s <= ${goal_s} s` };
  return { met: false, verdict: `missed: ${wall} s > ${goal_s} s (+${round1(wall - goal_s)} s)` };
}

/**
 * Milliseconds of a duration as pretty-ms writes it in ava's reporter:
 * "350ms", "1.2s", "1m 2.3s", "1h 1m 1s", "1d 1h 1m 1s"; undefined for
 * anything else.
 */
export function parsePrettyDuration(text: string): number | undefined {
  const units: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  const parts = text.trim().split(/\s+/);
  let total = 0;
  for (const part of parts) {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(part);
    if (!match) return undefined;
    total += Number(match[1]) * units[match[2]!]!;
  }
  return parts.length ? total : undefined;
}

/** The line without terminal colour codes (ava colours its output where it thinks a CI log shows them). */
export function plainText(line: string): string {
  // eslint-disable-next-line no-control-regex
  return line.replace(/\x1b\[[0-9;]*m/g, "");
}

export type AvaOutcome = "passed" | "failed" | "skipped" | "todo" | "pending";

/** One test's result line of ava's default reporter. */
export interface AvaResult {
  /** The file as ava names it: its path under the common folder, without .test.ts, parts joined by " › "; "" when ava ran one file. */
  file: string;
  title: string;
  outcome: AvaOutcome;
  /** What ava printed after a passing test's title: only tests over 100 ms get one. */
  ms?: number;
}

/**
 * A result line of ava 7's default reporter, undefined for any other line:
 * "✔ file › title (1.2s)", "✔ [expected fail] file › title",
 * "✘ [fail]: file › title message" (no separator between title and
 * message: the title keeps it), "- [skip] file › title", "- [todo] ...",
 * and "◌ file › title" (still pending when ava's timeout struck).
 */
export function parseAvaResult(coloured: string): AvaResult | undefined {
  const line = plainText(coloured);
  let outcome: AvaOutcome;
  let label: string;
  let ms: number | undefined;
  let match: RegExpExecArray | null;
  if ((match = /^\s*✔ (?:\[expected fail\] )?(.+)$/.exec(line))) {
    outcome = "passed";
    label = match[1]!;
    const duration = /^(.*) \(([\d.]+(?:ms|s|m|h|d)(?: [\d.]+(?:ms|s|m|h|d))*)\)$/.exec(label);
    if (duration) {
      ms = parsePrettyDuration(duration[2]!);
      if (ms !== undefined) label = duration[1]!;
    }
  } else if ((match = /^\s*✘ \[(?:fail|unexpected pass)\]: (.+)$/.exec(line))) {
    outcome = "failed";
    label = match[1]!;
  } else if ((match = /^\s*- \[(skip|todo)\] (.+)$/.exec(line))) {
    outcome = match[1] === "skip" ? "skipped" : "todo";
    label = match[2]!;
  } else if ((match = /^\s*◌ (.+)$/.exec(line))) {
    outcome = "pending";
    label = match[1]!;
  } else return undefined;
  const parts = label.split(" › ");
  const title = parts.pop()!;
  return { file: parts.join(" › "), title, outcome, ...(ms !== undefined ? { ms } : {}) };
}

/** The lines of ava's closing summary ("412 tests passed", "3 tests skipped", "1 known failure", ...). */
const avaSummaryLine = /^\s*(\d+ (?:tests? (?:passed|failed|skipped|todo|remained pending after a timeout)|hooks? failed|known failures?|unhandled rejections?|uncaught exceptions?|previous failures? in test files that were not rerun))\s*$/;

export interface AvaFileTimes {
  file: string;
  tests: number;
  /** The durations ava printed for this file's tests, summed (tests of a file run concurrently, so this can exceed its wall time). */
  summed_s: number;
  /** When its last result arrived, from the run's start. */
  last_at_s: number;
  slowest?: { title: string; s: number };
}

export interface AvaRunTimes {
  /** The summary lines, joined: "412 tests passed, 3 tests skipped". */
  summary: string;
  /** From the run's start: the first result line, and the summary. */
  first_at_s: number;
  end_at_s: number;
  tests: number;
  /** Failed tests ("file › title message") and those still pending at ava's timeout ("(pending) file › title"). */
  failed: string[];
  /** The files with the most test time, most first (at most `top`). */
  files: AvaFileTimes[];
  /** The slowest tests, slowest first (at most `top`). */
  slowest: { file: string; title: string; s: number }[];
}

/**
 * Each ava run in a run's output (npm test has two: the tests, then the
 * timed ones alone), from its first result line to its summary. A run cut
 * off before its summary is returned with the summary "(no summary: ended
 * early)".
 */
export function avaRuns(lines: readonly TimedLine[], top = 10): AvaRunTimes[] {
  const runs: AvaRunTimes[] = [];
  let results: { result: AvaResult; at_ms: number }[] = [];
  let summary: string[] = [];
  let summaryAt = 0;
  let first = 0;
  const close = (text: string, end_ms: number) => {
    const files = new Map<string, AvaFileTimes>();
    for (const { result, at_ms } of results) {
      const entry = files.get(result.file) ?? { file: result.file, tests: 0, summed_s: 0, last_at_s: 0 };
      entry.tests++;
      entry.last_at_s = seconds(at_ms);
      if (result.ms !== undefined) {
        entry.summed_s = round1(entry.summed_s + result.ms / 1000);
        if (result.ms / 1000 > (entry.slowest?.s ?? -1)) entry.slowest = { title: result.title, s: seconds(result.ms) };
      }
      files.set(result.file, entry);
    }
    runs.push({
      summary: text,
      first_at_s: seconds(first),
      end_at_s: seconds(end_ms),
      tests: results.length,
      failed: results
        .filter((r) => r.result.outcome === "failed" || r.result.outcome === "pending")
        .map((r) => `${r.result.outcome === "pending" ? "(pending) " : ""}${[r.result.file, r.result.title].filter(Boolean).join(" › ")}`),
      files: [...files.values()].sort((a, b) => b.summed_s - a.summed_s || b.last_at_s - a.last_at_s).slice(0, top),
      slowest: results
        .filter((r) => r.result.ms !== undefined)
        .sort((a, b) => b.result.ms! - a.result.ms!)
        .slice(0, top)
        .map((r) => ({ file: r.result.file, title: r.result.title, s: seconds(r.result.ms!) })),
    });
    results = [];
    summary = [];
  };
  for (const { at_ms, line: coloured } of lines) {
    const line = plainText(coloured);
    const summaryMatch = avaSummaryLine.exec(line);
    if (summaryMatch && (results.length > 0 || summary.length > 0)) {
      if (summary.length === 0) summaryAt = at_ms;
      summary.push(summaryMatch[1]!);
      continue;
    }
    if (summary.length > 0 && line.trim() !== "") close(summary.join(", "), summaryAt);
    const result = parseAvaResult(line);
    if (result) {
      if (results.length === 0) first = at_ms;
      results.push({ result, at_ms });
    }
  }
  if (summary.length > 0) close(summary.join(", "), summaryAt);
  else if (results.length > 0) close("(no summary: ended early)", results.at(-1)!.at_ms);
  return runs;
}

/** The ava summaries a run printed, in order ("412 tests passed, 3 tests skipped"). */
export function avaSummaries(lines: readonly TimedLine[]): string[] {
  return avaRuns(lines, 0).map((run) => run.summary);
}

export interface TimelineEntry {
  /** From the run's start. */
  at_s: number;
  /** Until the next entry (or the run's end): the step this line starts or announces. */
  s: number;
  line: string;
}

/**
 * The lines that mark where a run is: set-up's downloads and installs (every
 * "vforkcheck WORD: " line: setup, kernels, runtimes, qemu-user..., and the
 * gate's start), npm's script banners and "added N packages", the gate's
 * report line.
 */
const timelineLine = /^(vforkcheck [\w-]+: |> \S+@\S+ \S+$|added \d+ packages|report: )/;

/**
 * The run's milestones with the time until the next one: "(start)", set-up's
 * lines ("vforkcheck setup:", "vforkcheck kernels:", "vforkcheck runtimes:"...),
 * npm's script banners and "added N packages", the gate's start and report,
 * each ava run's first result and summary. At most `limit` entries: the
 * longest steps, kept in order.
 */
export function timeline(lines: readonly TimedLine[], end_ms: number, limit = 60): TimelineEntry[] {
  const marks: { at_ms: number; line: string }[] = [{ at_ms: 0, line: "(start)" }];
  for (const { at_ms, line } of lines) if (timelineLine.test(plainText(line))) marks.push({ at_ms, line: plainText(line).trim() });
  for (const run of avaRuns(lines, 0)) {
    marks.push({ at_ms: run.first_at_s * 1000, line: `ava: first result (${run.tests} results)` });
    marks.push({ at_ms: run.end_at_s * 1000, line: `ava: ${run.summary}` });
  }
  marks.sort((a, b) => a.at_ms - b.at_ms);
  const entries = marks.map((mark, index) => ({
    at_s: seconds(mark.at_ms),
    s: seconds(Math.max(0, (marks[index + 1]?.at_ms ?? end_ms) - mark.at_ms)),
    line: mark.line.length > 200 ? `${mark.line.slice(0, 197)}...` : mark.line,
  }));
  if (entries.length <= limit) return entries;
  const kept = new Set([...entries].sort((a, b) => b.s - a.s).slice(0, limit));
  return entries.filter((entry) => kept.has(entry));
}

export interface GateTimes {
  wall_s: number;
  /** Each phase's own seconds (the report's phases_s are times from the start). */
  phases: { phase: string; s: number }[];
  /** Each target's seconds, slowest first; a VM's last boot too. */
  targets: { target: string; s: number; boot_s?: number }[];
}

/** Where a gate's time went, from its JSON report (reports/gate.json); undefined when it is no such report. */
export function gateTimes(report: unknown): GateTimes | undefined {
  if (typeof report !== "object" || report === null) return undefined;
  const json = report as { wall_s?: unknown; phases_s?: unknown; targets?: unknown };
  if (typeof json.wall_s !== "number") return undefined;
  const ends = Object.entries(typeof json.phases_s === "object" && json.phases_s !== null ? (json.phases_s as Record<string, unknown>) : {})
    .filter((entry): entry is [string, number] => entry[0] !== "wall_s" && typeof entry[1] === "number")
    .sort((a, b) => a[1] - b[1]);
  const phases = ends.map(([phase, end], index) => ({ phase, s: round1(end - (index > 0 ? ends[index - 1]![1] : 0)) }));
  const targets = (Array.isArray(json.targets) ? json.targets : [])
    .filter((t): t is { target: string; wall_s: number; machine?: { bootSeconds?: unknown } } => typeof t?.target === "string" && typeof t?.wall_s === "number")
    .map((t) => ({ target: t.target, s: t.wall_s, ...(typeof t.machine?.bootSeconds === "number" ? { boot_s: round1(t.machine.bootSeconds) } : {}) }))
    .sort((a, b) => b.s - a.s);
  return { wall_s: json.wall_s, phases, targets };
}

/** "10:12" for 612.3 s; "1:02:03" past an hour. */
export function clockTime(s: number): string {
  const whole = Math.floor(s);
  const pad = (n: number) => String(n).padStart(2, "0");
  const [h, m, sec] = [Math.floor(whole / 3600), Math.floor((whole % 3600) / 60), whole % 60];
  return h > 0 ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
}
