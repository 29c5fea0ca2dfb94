/**
 * The fenced code block a Markdown section holds: how a test takes a
 * program from the document that shows it, so the document is its one
 * source. Pure.
 */

/** The first ```language block after the heading line `heading` (e.g. "## An external driver in C"); throws naming what is missing. */
export function fencedBlockAfter(markdown: string, heading: string, language: string): string {
  const lines = markdown.split("\n");
  const start = lines.findIndex((line) => line.trimEnd() === heading);
  if (start < 0) throw new Error(`no heading '${heading}'`);
  const open = lines.findIndex((line, index) => index > start && line.trimEnd() === `\`\`\`${language}`);
  const nextHeading = lines.findIndex((line, index) => index > start && /^#{1,6} /.test(line) && line.split(" ")[0]!.length <= heading.split(" ")[0]!.length);
  if (open < 0 || (nextHeading >= 0 && open > nextHeading)) throw new Error(`no \`\`\`${language} block under '${heading}'`);
  const close = lines.findIndex((line, index) => index > open && line.trimEnd() === "```");
  if (close < 0) throw new Error(`the \`\`\`${language} block under '${heading}' is not closed`);
  return `${lines.slice(open + 1, close).join("\n")}\n`;
}
