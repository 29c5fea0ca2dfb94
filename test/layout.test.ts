// The shape of the code (docs/internals.md, "Layout and layering"): harness/ is layered by stage,
// imports run one way, from src/ up to harness/cli/, and there is no circle.
import test from "ava";
import { fileURLToPath } from "node:url";
import { importCircles, layerViolations, readImportGraph, type ImportGraph } from "./helpers/import-graph.ts";

const root = fileURLToPath(new URL("../", import.meta.url));

test("harness/, src/, properties/ and impls/ have no import circle", (t) => {
  const graph = readImportGraph(root, ["harness", "src", "properties", "impls"]);
  t.true(graph.size > 50, `only ${graph.size} files read`);
  t.deepEqual(importCircles(graph), []);
});

test("no import runs from a lower layer up to a higher one", (t) => {
  const graph = readImportGraph(root, ["harness", "src", "properties", "impls"]);
  t.deepEqual(layerViolations(graph), []);
});

// The checks themselves can fail: the circle the flat harness/ once had, and an upward import.
test("the checks find a circle and an upward import", (t) => {
  const graph: ImportGraph = new Map([
    ["harness/targets/targets.ts", ["harness/targets/system-target.ts", "harness/implementations/index.ts"]],
    ["harness/targets/system-target.ts", ["harness/targets/targets.ts"]],
    ["harness/implementations/index.ts", ["harness/targets/targets.ts"]],
    ["src/oracle.ts", []],
    ["harness/setup.ts", ["src/oracle.ts"]],
  ]);
  t.deepEqual(importCircles(graph), [["harness/implementations/index.ts", "harness/targets/system-target.ts", "harness/targets/targets.ts"]]);
  t.deepEqual(layerViolations(graph), [
    "harness/implementations/index.ts -> harness/targets/targets.ts (harness/implementations imports harness/targets, a higher layer)",
    "harness/setup.ts: in no layer (src, properties, impls, harness/process, harness/toolchain, harness/build, harness/implementations, harness/targets, harness/run, harness/bench, harness/cli)",
  ]);
});
