// docs/command-line.md lists every command and option as the option tables (the parsers') have them.
import test from "ava";
import { readFileSync } from "node:fs";
import { commandLineDoc, withCommandSections } from "../../harness/cli/command-line-doc.ts";
import { commandSpecs } from "../../harness/cli/commands.ts";
import { optionSynopsis } from "../../src/option-table.ts";

const page = readFileSync(commandLineDoc, "utf8");

test("every command's section is the one its table makes (node --import=tsx harness/cli/command-line-doc.ts rewrites them)", (t) => {
  t.is(page, withCommandSections(page));
});

test("every command and every option, with its default, is on the page; the exit codes and the output are explained", (t) => {
  for (const command of commandSpecs) {
    t.true(page.includes(`### vforkcheck ${command.name}\n`), command.name);
    for (const option of command.options) t.true(page.includes(`| \`${optionSynopsis(option).replace(/\|/g, "\\|")}\` |`) && page.includes(` | ${option.default.replace(/\|/g, "\\|")} | `), `${command.name} ${option.name}`);
  }
  for (const heading of ["## Exit codes", "## What a run prints", "## The reports"]) t.true(page.includes(heading), heading);
  t.regex(page, /^\| 2 \| bad usage/m);
  t.regex(page, /^properties: concur concurrent-spawns/m);
  t.regex(page, /^ok: \d+ failed, \d+ passed/m);
});
