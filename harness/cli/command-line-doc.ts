/**
 * docs/command-line.md's command sections, made from the option tables
 * (harness/cli/commands.ts). Each section sits between two marker comments;
 * the rest of the page is prose. Run this file to rewrite the sections after
 * a table changed (test/cli/command-line-doc.test.ts fails until then):
 *
 *   node --import=tsx harness/cli/command-line-doc.ts
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { commandMarkdown } from "../../src/option-table.ts";
import { isMainModule } from "../process/main-module.ts";
import { projectRoot } from "../process/project-root.ts";
import { commandSpecs } from "./commands.ts";

export const commandLineDoc = join(projectRoot, "docs", "command-line.md");

const begin = (name: string) => `<!-- ${name}: made from its option table; node --import=tsx harness/cli/command-line-doc.ts rewrites it -->`;
const end = (name: string) => `<!-- end of ${name} -->`;

/** The page with every command's section as its table makes it; a command without its markers is added at the end of the page. */
export function withCommandSections(page: string): string {
  let text = page;
  for (const command of commandSpecs) {
    const block = `${begin(command.name)}\n${commandMarkdown("vforkcheck", command)}\n${end(command.name)}`;
    const from = text.indexOf(begin(command.name));
    const to = text.indexOf(end(command.name));
    text = from >= 0 && to > from ? `${text.slice(0, from)}${block}${text.slice(to + end(command.name).length)}` : `${text.trimEnd()}\n\n${block}\n`;
  }
  return text;
}

if (isMainModule(import.meta.url)) writeFileSync(commandLineDoc, withCommandSections(readFileSync(commandLineDoc, "utf8")));
