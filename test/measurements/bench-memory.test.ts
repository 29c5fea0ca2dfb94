// The memory benchmark's gate on a tiny configuration, measured for real on
// this machine: the reference (fast path) and the reference with its fork
// fallback forced, at 16 MiB and 1 GiB (run alone, after the other tests:
// ava.measurements.config.js). Judged as a runtime that claims the
// fast path (--claim-fast-path), the forced fork fails the flatness gate and
// the reference passes it; the verdicts are ratios within the run. Also the
// pure parts: sizes, percentiles, the timings line and the plot.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { GiB, MiB, parseSize, summarizeLatencies, type GateVerdict, type MeasuredSeries } from "../../src/bench-memory.ts";
import { renderLatencyPlot } from "../../src/latency-plot.ts";
import { parseTimings, ProtocolError } from "../../src/protocol.ts";

interface Report {
  ratios: { target: string; sizes: { bytes: number; forkOverReference?: number; referenceOverSmallest?: number }[] }[];
  targets: { target: string; series: MeasuredSeries[]; conditions: { vforkSharesMemory: boolean } }[];
  verdicts: GateVerdict[];
}

test("the gate fails the forced fork and passes the fast path, on ratios measured in one run", (t) => {
  const directory = mkdtempSync(join(tmpdir(), "vfc-bench-"));
  try {
    const reportFile = join(directory, "bench-memory.json");
    const args = ["--import=tsx", "harness/cli/vforkcheck.ts", "bench", "memory", "--tier", "host", "--impl", "reference,fork", "--sizes", "16M,1G", "--repeat", "4", "--spawns", "5", "--claim-fast-path", "fork", "--gate", "--report", reportFile];
    const run = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 240_000 });
    t.is(run.status, 1, `${run.stdout}\n${run.stderr}`);
    const report = JSON.parse(readFileSync(reportFile, "utf8")) as Report;
    t.true(report.targets[0]!.conditions.vforkSharesMemory, "the probe measured real vfork on the host");
    const flat = (series: string) => report.verdicts.find((v) => v.check === "flat" && v.series === series)!;
    t.is(flat("fork").status, "fail", flat("fork").message);
    t.true(flat("fork").ratio! > 3, "fork's median grows more than 3x from 16 MiB to 1 GiB");
    t.regex(run.stdout, /^FAIL flat: fork on amd64\/host claims the fast path but is not flat/m);
    t.is(flat("reference").status, "pass", flat("reference").message);
    t.true(flat("reference").ratio! <= 3);
    const forkSlower = report.verdicts.find((v) => v.check === "fork-slower")!;
    t.is(forkSlower.status, "pass", forkSlower.message);
    // The report's ratios of medians are the ones the verdicts judged.
    const atLargest = report.ratios[0]!.sizes.find((r) => r.bytes === GiB)!;
    t.is(atLargest.forkOverReference, Number(forkSlower.ratio!.toFixed(3)));
    t.is(atLargest.referenceOverSmallest, Number(flat("reference").ratio!.toFixed(3)));
    // The plot of the same run: one line per implementation, axes and labels.
    const svg = readFileSync(join(directory, "bench-memory.svg"), "utf8");
    t.regex(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    t.is(svg.match(/<path /g)?.length, 2);
    for (const label of ["parent memory, touched (log scale)", "16 MiB", "1 GiB", "reference amd64/host", "fork amd64/host (fork forced)"]) t.true(svg.includes(label), label);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test("sizes are parsed with binary units and refused when malformed", (t) => {
  t.is(parseSize("64M"), 64 * MiB);
  t.is(parseSize("1.5G"), 1.5 * GiB);
  t.is(parseSize("16GiB"), 16 * GiB);
  t.is(parseSize("4096"), 4096);
  t.is(parseSize("ten"), undefined);
  t.is(parseSize("0"), undefined);
});

test("summaries: min, median and the nearest-rank p95 of the samples", (t) => {
  const nanoseconds = Array.from({ length: 20 }, (_, i) => (i + 1) * 1e6); // 1..20 ms
  t.deepEqual(summarizeLatencies(nanoseconds), { samples: 20, minMs: 1, medianMs: 10.5, p95Ms: 19 });
  t.throws(() => summarizeLatencies([]));
});

test("a timings line is parsed strictly: a malformed one is a protocol error that says where", (t) => {
  t.deepEqual(parseTimings("timings id=3 ns=250000,260000"), { id: 3, nanoseconds: [250000, 260000] });
  t.deepEqual(parseTimings(`timings id=4 failure=x${Buffer.from("spawn 1: errno 2").toString("hex")}`), { id: 4, failure: "spawn 1: errno 2" });
  const error = t.throws(() => parseTimings("timings id=5 ns=12,x"), { instanceOf: ProtocolError });
  t.regex(error!.message, /field 'ns' is not a list of integers in "timings id=5 ns=12,x"/);
  t.throws(() => parseTimings("timings id=6"), { instanceOf: ProtocolError, message: /neither 'ns' nor 'failure'/ });
  t.throws(() => parseTimings(`error id=7 reason=${Buffer.from("unknown field").toString("hex")}`), { instanceOf: ProtocolError, message: /refused bench line 7: unknown field/ });
});

test("the plot refuses to draw nothing", (t) => {
  t.throws(() => renderLatencyPlot([], "t", "s"), { message: /nothing to plot/ });
});
