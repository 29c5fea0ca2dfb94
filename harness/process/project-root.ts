import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const thisFile = fileURLToPath(import.meta.url);

/**
 * True when this code runs compiled (dist/, the npm package), false when it
 * runs as TypeScript sources through tsx (a checkout).
 */
export const runsCompiled = thisFile.endsWith(".js");

/** The nearest directory above `start` that holds a package.json. */
function packageDirectoryAbove(start: string): string {
  for (let directory = dirname(start); ; directory = dirname(directory)) {
    if (existsSync(join(directory, "package.json"))) return directory;
    if (dirname(directory) === directory) throw new Error(`no package.json above ${start}`);
  }
}

/**
 * The project's root directory (with a trailing slash): the checkout, or the
 * installed package (this file is then in its dist/). Every stage finds its
 * files (native/, impls/, the lock files) from here.
 */
export const projectRoot = `${packageDirectoryAbove(thisFile)}/`;

/** Where this code's modules are: projectRoot itself in a checkout, its dist/ in the package. */
const codeRoot = runsCompiled ? join(projectRoot, "dist") : projectRoot;

/**
 * The node arguments that run one of our modules as a program, named by its
 * source path ("impls/node/driver.ts"): its compiled file in the package,
 * the source through tsx in a checkout (tsx resolved from this project, so
 * the child's cwd does not matter).
 */
export function nodeModuleArguments(sourcePath: string): string[] {
  if (runsCompiled) return [join(codeRoot, sourcePath.replace(/\.ts$/, ".js"))];
  return [`--import=${import.meta.resolve("tsx")}`, join(codeRoot, sourcePath)];
}
