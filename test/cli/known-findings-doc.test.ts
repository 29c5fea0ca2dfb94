// docs/known-findings.md does what it says: the commands of its marked
// block (```sh known-findings-workflow) run in order, verbatim, in a scratch
// git repository, `npx vforkcheck` being this checkout's bin/vforkcheck.js;
// each exits as its `# exit N` says (0 without one). Its example entry parses.
import test from "ava";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadProperties } from "../../properties/index.ts";
import { parseKnownFindings } from "../../src/known-findings.ts";
import { everyImplementationName } from "../../harness/implementations/index.ts";
import { scratchDirectory } from "../helpers/scratch-directory.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const page = readFileSync(`${root}docs/known-findings.md`, "utf8");

/** The lines of the page's fenced block whose info string is this. */
function block(info: string): string[] {
  const match = new RegExp("^```" + info + "\\n([\\s\\S]*?)^```$", "m").exec(page);
  return match ? match[1]!.trimEnd().split("\n") : [];
}

test("the workflow's commands run in order and exit as the page says", (t) => {
  const commands = block("sh known-findings-workflow");
  t.true(commands.length >= 6, "the page has its marked block of commands");
  const directory = scratchDirectory(t, "vfc-known-doc-");
  const environment = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.org", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.org" };
  t.is(spawnSync("git", ["init", "--quiet"], { cwd: directory }).status, 0);
  // npx vforkcheck is the package's command; here the checkout's, which the package's bin runs.
  const prelude = `npx() { if [ "$1" = vforkcheck ]; then shift; node ${JSON.stringify(`${root}bin/vforkcheck.js`)} "$@"; else command npx "$@"; fi; }`;
  for (const command of commands) {
    const expected = Number(/# exit (\d+)$/.exec(command)?.[1] ?? 0);
    const run = spawnSync("bash", ["-c", `${prelude}\n${command}`], { cwd: directory, env: environment, encoding: "utf8", timeout: 280_000 });
    t.is(run.status, expected, `${command}\n${run.stdout.slice(-1500)}\n${run.stderr.slice(-1500)}`);
    if (run.status !== expected) return;
  }
  const committed = spawnSync("git", ["log", "--oneline", "--", "known-findings.json"], { cwd: directory, encoding: "utf8" });
  t.regex(committed.stdout, /known finding: a failing clone reported with errno 0/);
});

test("the page's complete entry is one the file's parser accepts", async (t) => {
  const properties = (await loadProperties()).map((property) => property.name);
  const [entry] = parseKnownFindings(block("json").join("\n"), "docs/known-findings.md", { implementations: everyImplementationName, properties });
  t.is(entry?.reproducer.cloneFlags, 0x20200);
});
