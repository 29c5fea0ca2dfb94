// Tests whose verdicts rest on measured times (the memory benchmark's gate)
// run alone, after the others: a VM booting or a mutant run beside them on
// two cores would move their medians, not the code under test.
import { readFileSync } from "node:fs";

const base = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8")).ava;

export default { ...base, files: ["test/measurements/**/*.test.ts"], concurrency: 1 };
