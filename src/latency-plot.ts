/**
 * The memory benchmark's plot as a standalone SVG: spawn-to-exit latency
 * (median, log scale, with a min..p95 bar) against the parent's memory size
 * (log scale), one line per implementation and target. Readable without
 * the JSON: title, axis labels, ticks and a legend are in the picture.
 */
import { formatSize, type MeasuredSeries } from "./bench-memory.ts";

const width = 960;
const height = 600;
const margin = { left: 80, right: 280, top: 56, bottom: 64 };
const palette: Record<string, string> = {
  reference: "#1f77b4",
  fork: "#d62728",
  glibc: "#2ca02c",
  go: "#9467bd",
  node: "#ff7f0e",
  "in-process": "#17becf",
};
const extraColours = ["#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"];
/** Host lines solid; emulated tiers dashed or dotted (their times are relative only). */
const dashOf = (target: string): string => (target.endsWith("/user") ? "8 5" : target.endsWith("/system") ? "2 4" : "");

const escape = (text: string): string => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function logScale(lowest: number, highest: number, from: number, to: number): (value: number) => number {
  const a = Math.log10(lowest);
  const b = Math.log10(highest);
  return (value) => from + ((Math.log10(value) - a) / (b - a || 1)) * (to - from);
}

function formatMs(ms: number): string {
  return ms >= 1 ? `${Number(ms.toPrecision(3))} ms` : `${Number((ms * 1000).toPrecision(3))} µs`;
}

export function renderLatencyPlot(series: readonly MeasuredSeries[], title: string, subtitle: string): string {
  const points = series.flatMap((s) => s.points);
  if (!points.length) throw new Error("nothing to plot: no series has a measured point");
  const sizes = [...new Set(points.map((p) => p.bytes))].sort((a, b) => a - b);
  const lowestMs = 10 ** Math.floor(Math.log10(Math.min(...points.map((p) => p.minMs))));
  const highestMs = 10 ** Math.ceil(Math.log10(Math.max(...points.map((p) => p.p95Ms))));
  const x = logScale(sizes[0]! / 1.5, sizes[sizes.length - 1]! * 1.5, margin.left, width - margin.right);
  const y = logScale(lowestMs, highestMs, height - margin.bottom, margin.top);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${margin.left}" y="24" font-size="16" font-weight="bold">${escape(title)}</text>`);
  out.push(`<text x="${margin.left}" y="42" fill="#555">${escape(subtitle)}</text>`);
  // Axes, grid and ticks.
  const plotBottom = height - margin.bottom;
  const plotRight = width - margin.right;
  out.push(`<line x1="${margin.left}" y1="${plotBottom}" x2="${plotRight}" y2="${plotBottom}" stroke="black"/>`);
  out.push(`<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${plotBottom}" stroke="black"/>`);
  for (let ms = lowestMs; ms <= highestMs * 1.0001; ms *= 10) {
    const at = y(ms).toFixed(1);
    out.push(`<line x1="${margin.left}" y1="${at}" x2="${plotRight}" y2="${at}" stroke="#ddd"/>`);
    out.push(`<text x="${margin.left - 6}" y="${at}" text-anchor="end" dominant-baseline="middle">${escape(formatMs(ms))}</text>`);
  }
  for (const bytes of sizes) {
    const at = x(bytes).toFixed(1);
    out.push(`<line x1="${at}" y1="${margin.top}" x2="${at}" y2="${plotBottom}" stroke="#eee"/>`);
    out.push(`<text x="${at}" y="${plotBottom + 18}" text-anchor="middle">${escape(formatSize(bytes))}</text>`);
  }
  out.push(`<text x="${(margin.left + plotRight) / 2}" y="${height - 18}" text-anchor="middle">parent memory, touched (log scale)</text>`);
  out.push(`<text transform="translate(20 ${(margin.top + plotBottom) / 2}) rotate(-90)" text-anchor="middle">spawn-to-exit latency, median with min..p95 bar (log scale)</text>`);
  // One line per series, in the legend's order.
  const names = [...new Set(series.map((s) => s.series))];
  const colourOf = (name: string) => palette[name] ?? extraColours[names.indexOf(name) % extraColours.length]!;
  series.forEach((s, index) => {
    const colour = colourOf(s.series);
    // Each line's points sit a few pixels apart, so bars at one size do not hide each other.
    const nudge = (index - (series.length - 1) / 2) * 3;
    const sorted = [...s.points].sort((a, b) => a.bytes - b.bytes);
    const path = sorted.map((p, i) => `${i ? "L" : "M"}${(x(p.bytes) + nudge).toFixed(1)},${y(p.medianMs).toFixed(1)}`).join(" ");
    const dash = dashOf(s.target);
    if (sorted.length > 1) out.push(`<path d="${path}" fill="none" stroke="${colour}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ""}/>`);
    for (const p of sorted) {
      const px = (x(p.bytes) + nudge).toFixed(1);
      out.push(`<line x1="${px}" y1="${y(p.minMs).toFixed(1)}" x2="${px}" y2="${y(p.p95Ms).toFixed(1)}" stroke="${colour}" stroke-opacity="0.5"/>`);
      out.push(`<circle cx="${px}" cy="${y(p.medianMs).toFixed(1)}" r="3" fill="${colour}"><title>${escape(`${s.series} ${s.target} ${formatSize(p.bytes)}: median ${formatMs(p.medianMs)}, min ${formatMs(p.minMs)}, p95 ${formatMs(p.p95Ms)}, ${p.samples} samples`)}</title></circle>`);
    }
    const legendY = margin.top + 8 + index * 20;
    const legendX = plotRight + 20;
    out.push(`<line x1="${legendX}" y1="${legendY}" x2="${legendX + 28}" y2="${legendY}" stroke="${colour}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ""}/>`);
    const claim = s.forkBaseline ? " (fork forced)" : s.claimsFastPath ? "" : " (no fast path)";
    out.push(`<text x="${legendX + 34}" y="${legendY}" dominant-baseline="middle">${escape(`${s.series} ${s.target}${claim}`)}</text>`);
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
