// The docs are for their readers: the README stays a short guide, every
// relative link of the README and docs/*.md leads to a file (and heading),
// no tracked text names an issue number, a design document or a path of the
// machine it was written on, the npm package ships docs/ and LICENSE, and the
// README's first run is a command the CLI runs and passes.
import test from "ava";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { projectRoot } from "../harness/process/project-root.ts";

const readme = join(projectRoot, "README.md");
const docsDirectory = join(projectRoot, "docs");
const pages = [readme, ...readdirSync(docsDirectory).filter((name) => name.endsWith(".md")).map((name) => join(docsDirectory, name))];
const shown = (file: string) => relative(projectRoot, file);

/** The text outside fenced code blocks and inline code spans: what a renderer reads links and headings from. */
function prose(markdown: string): string[] {
  let fenced = false;
  return markdown.split("\n").map((line) => {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      return "";
    }
    return fenced ? "" : line.replace(/`[^`]*`/g, "");
  });
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens; repeats get -1, -2, .... */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const found = new Set<string>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*)$/.exec(line);
    if (!heading) continue;
    const text = heading[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, "$1");
    const slug = text.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").trim().replace(/\s/g, "-");
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    found.add(count ? `${slug}-${count}` : slug);
  }
  return found;
}

interface Link {
  page: string;
  line: number;
  target: string;
}

function relativeLinks(page: string): Link[] {
  return prose(readFileSync(page, "utf8")).flatMap((line, index) =>
    [...line.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
      .map((match) => match[1]!)
      .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target))
      .map((target) => ({ page, line: index + 1, target })),
  );
}

/** Why a link leads nowhere, or undefined when it leads to a file (and to a heading there, when it names one). */
function brokenBecause(link: Link): string | undefined {
  const [path, anchor] = link.target.split("#", 2) as [string, string | undefined];
  const file = path === "" ? link.page : join(dirname(link.page), decodeURIComponent(path));
  if (!existsSync(file)) return `no file ${shown(file)}`;
  if (anchor === undefined || statSync(file).isDirectory() || !file.endsWith(".md")) return undefined;
  return anchors(readFileSync(file, "utf8")).has(anchor) ? undefined : `no heading '#${anchor}' in ${shown(file)}`;
}

test("the README is a guide of at most 300 lines", (t) => {
  const lines = readFileSync(readme, "utf8").trimEnd().split("\n").length;
  t.true(lines <= 300, `README.md has ${lines} lines`);
});

test("every relative link of the README and docs/*.md leads to a file, and to its heading when it names one", (t) => {
  const links = pages.flatMap(relativeLinks);
  t.true(links.length > 50, `only ${links.length} links found: is the link reader broken?`);
  const broken = links.flatMap((link) => {
    const why = brokenBecause(link);
    return why ? [`${shown(link.page)}:${link.line}: (${link.target}): ${why}`] : [];
  });
  t.deepEqual(broken, []);
});

test("the README links every docs page", (t) => {
  const linked = new Set(relativeLinks(readme).map((link) => join(projectRoot, link.target.split("#")[0]!)));
  t.deepEqual(pages.filter((page) => page !== readme && !linked.has(page)).map(shown), []);
});

test("the anchor reader knows GitHub's slugs: arrows and backticks dropped, repeats numbered", (t) => {
  t.deepEqual([...anchors("## `hello` (driver → harness, first line)\n## Releases from the registry (`--impl NAME@VERSION`)\n## A\n## A\n```\n## not a heading\n```")], [
    "hello-driver--harness-first-line",
    "releases-from-the-registry---impl-nameversion",
    "a",
    "a-1",
  ]);
  t.is(brokenBecause({ page: readme, line: 1, target: "docs/tiers.md#no-such-heading" }), "no heading '#no-such-heading' in docs/tiers.md");
  t.is(brokenBecause({ page: readme, line: 1, target: "docs/nowhere.md" }), "no file docs/nowhere.md");
});

/** What no tracked text may say: it means nothing to a reader, or is a path of one machine. */
const forbidden: readonly [RegExp, string][] = [
  [/\bissue\s+#?\d+/i, "an issue number"],
  [/design brief/i, "the design brief"],
  [/\bDESIGN\.md\b/, "a design document outside the repository"],
  [/measured here/i, "'measured here' (say what was measured where)"],
  [/\/work\/|\/\.library\b|\/home\/[a-z]|\/root\/\.cache\b/, "a path of the machine it was written on"],
];

test("no tracked text file names an issue number, a design brief or a path of the machine it was written on", (t) => {
  const files = execFileSync("git", ["ls-files", "-z"], { cwd: projectRoot, encoding: "utf8" }).split("\0").filter(Boolean);
  const hits: string[] = [];
  for (const file of files) {
    const full = join(projectRoot, file);
    if (file === "test/docs.test.ts" || !existsSync(full)) continue; // this file spells the patterns out
    const text = readFileSync(full);
    if (text.includes(0)) continue; // binary
    text.toString("utf8").split("\n").forEach((line, index) => {
      for (const [pattern, what] of forbidden) if (pattern.test(line)) hits.push(`${file}:${index + 1}: ${what}: ${line.trim().slice(0, 120)}`);
    });
  }
  t.deepEqual(hits, []);
});

test("the npm package ships docs/ and LICENSE", (t) => {
  const packed = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: projectRoot, encoding: "utf8", timeout: 120_000 });
  t.is(packed.status, 0, packed.stderr);
  const files = new Set((JSON.parse(packed.stdout) as { files: { path: string }[] }[])[0]!.files.map((file) => file.path));
  for (const expected of ["LICENSE", "README.md", "docs/protocol.md", "docs/examples/posix-spawn-driver.py", "docs/examples/go-fork.yml", ...pages.filter((page) => page !== readme).map(shown)])
    t.true(files.has(expected), `${expected} is not in the package`);
  t.regex(readFileSync(join(projectRoot, "LICENSE"), "utf8"), /^MIT License\n\nCopyright \(c\) \d{4} vforkcheck contributors\n/);
});

test("the README's first run is a command the CLI runs, and it passes", (t) => {
  const section = readFileSync(readme, "utf8").split(/^## /m).find((part) => part.startsWith("A first run"));
  t.truthy(section, "README.md has no '## A first run' section");
  const command = /^node bin\/vforkcheck\.js (gate .*)$/m.exec(section ?? "")?.[1];
  t.truthy(command, "no `node bin/vforkcheck.js gate ...` line in the README's first run");
  const scratch = mkdtempSync(join(tmpdir(), "vforkcheck-docs-"));
  try {
    const report = join(scratch, "gate.json");
    // The README's words, with the report kept out of the checkout's reports/.
    const run = spawnSync(process.execPath, [join(projectRoot, "bin", "vforkcheck.js"), ...command!.split(/\s+/), "--report", report], {
      cwd: projectRoot,
      encoding: "utf8",
      timeout: 240_000,
      killSignal: "SIGKILL",
    });
    t.is(run.status, 0, `${command}: exit ${run.status}\n${run.stderr.slice(-2000)}`);
    const written = JSON.parse(readFileSync(report, "utf8")) as { results: { target: string; status: string; runs: number }[] };
    t.deepEqual([...new Set(written.results.map((result) => result.target))].sort(), ["amd64/host", "amd64/host/in-process"]);
    t.true(written.results.some((result) => result.status === "pass" && result.runs === 10), "no property ran its 10 cases");
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});
