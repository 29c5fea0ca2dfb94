// The project's import graph and the two rules that keep its shape
// (docs/internals.md, "Layout and layering"): no import circle, and no import from a lower layer to
// a higher one. Pure apart from readImportGraph, which reads the files.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import ts from "typescript";

/** Each file (relative to the project root) and the project files it imports. */
export type ImportGraph = Map<string, string[]>;

/** The layers from the ground up; a file may import its own layer and those below it. */
export const layers: readonly string[] = [
  "src",
  "properties",
  "impls",
  "harness/process",
  "harness/toolchain",
  "harness/build",
  "harness/implementations",
  "harness/targets",
  "harness/run",
  "harness/bench",
  "harness/cli",
];

/** The layer a file belongs to: the longest layer that is a folder of it; undefined when none is. */
export function layerOf(file: string): string | undefined {
  return layers.filter((layer) => file.startsWith(`${layer}/`)).sort((a, b) => b.length - a.length)[0];
}

function sourceFiles(root: string, folder: string): string[] {
  return readdirSync(join(root, folder), { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".ts"))
    .map((name) => join(folder, name));
}

/** Static, type-only and dynamic imports alike: a circle through a type is still a circle. */
export function readImportGraph(root: string, folders: readonly string[]): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const file of folders.flatMap((folder) => sourceFiles(root, folder))) {
    const imported = ts.preProcessFile(readFileSync(join(root, file), "utf8"), true, true).importedFiles.map((reference) => reference.fileName);
    graph.set(
      file,
      imported.filter((name) => name.startsWith(".")).map((name) => normalize(join(dirname(file), name))),
    );
  }
  return graph;
}

/** Every import circle (strongly connected component of more than one file, or a file importing itself), each sorted. */
export function importCircles(graph: ImportGraph): string[][] {
  // Tarjan's algorithm.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const circles: string[][] = [];
  let next = 0;
  const visit = (file: string): void => {
    index.set(file, next);
    low.set(file, next);
    next++;
    stack.push(file);
    onStack.add(file);
    for (const target of graph.get(file) ?? []) {
      if (!graph.has(target)) continue;
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(file, Math.min(low.get(file)!, index.get(target)!));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || (graph.get(file) ?? []).includes(file)) circles.push(component.sort());
  };
  for (const file of [...graph.keys()].sort()) if (!index.has(file)) visit(file);
  return circles;
}

/** Each import that runs from a lower layer up to a higher one, or from or to a file in no layer, as "from -> to (why)". */
export function layerViolations(graph: ImportGraph): string[] {
  const violations: string[] = [];
  for (const [file, imports] of graph) {
    const from = layerOf(file);
    if (from === undefined) {
      violations.push(`${file}: in no layer (${layers.join(", ")})`);
      continue;
    }
    for (const target of imports) {
      const to = layerOf(target);
      if (to === undefined) violations.push(`${file} -> ${target} (the imported file is in no layer)`);
      else if (layers.indexOf(to) > layers.indexOf(from)) violations.push(`${file} -> ${target} (${from} imports ${to}, a higher layer)`);
    }
  }
  return violations.sort();
}

/** A path relative to the project root, for messages. */
export const projectRelative = (root: string, path: string): string => relative(root, path);
