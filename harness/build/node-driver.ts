/**
 * The Node driver (impls/node/driver.ts) as one CommonJS file that any Node
 * from 18 on runs as it is: a registry release in its own userland, under
 * qemu-user, or as a VM's /driver behind a #! line (a file without an
 * extension, and no package.json beside it, is CommonJS to Node 18).
 *
 * TypeScript's own transpiler makes it (ts.transpileModule: types erased,
 * imports turned into require; the driver imports only Node's own modules,
 * so one source file is one output file and no bundler is needed). In a
 * checkout it is made on first use into the build cache, named by the
 * source's digest; the npm package carries the one `npm run build` made
 * (dist/impls/node/driver.cjs), where typescript is not installed.
 *
 *   node --import=tsx harness/build/node-driver.ts OUT   (npm run build)
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { isMainModule } from "../process/main-module.ts";
import { projectRoot, runsCompiled } from "../process/project-root.ts";
import { writeFileAtomically } from "../toolchain/cache-entry.ts";
import { buildRoot } from "./build.ts";

const driverSource = join(projectRoot, "impls", "node", "driver.ts");
/** Where the package keeps the one npm run build made. */
const packagedDriver = join(projectRoot, "dist", "impls", "node", "driver.cjs");

/** The driver's source transpiled to CommonJS for Node 18's language level. */
async function transpiledDriver(): Promise<string> {
  const ts = (await import("typescript")).default;
  const { outputText, diagnostics } = ts.transpileModule(readFileSync(driverSource, "utf8"), {
    fileName: driverSource,
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, removeComments: false },
  });
  if (diagnostics?.length) throw new Error(`impls/node/driver.ts: ${ts.flattenDiagnosticMessageText(diagnostics[0]!.messageText, " ")}`);
  return outputText;
}

/** The file whole or not at all (cache-entry.ts), its directory made first. */
function writeAtomically(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomically(path, text);
}

/** The path of the driver as one CommonJS file: the package's, or this checkout's, made when its source changed. */
export async function nodeDriverScript(): Promise<string> {
  if (runsCompiled) return packagedDriver;
  const digest = createHash("sha256").update(readFileSync(driverSource)).digest("hex").slice(0, 16);
  const path = join(buildRoot, "node-driver", digest, "driver.cjs");
  if (!existsSync(path)) writeAtomically(path, await transpiledDriver());
  return path;
}

if (isMainModule(import.meta.url)) {
  const out = process.argv[2];
  if (out === undefined) {
    process.stderr.write("usage: node --import=tsx harness/build/node-driver.ts OUT (writes the Node driver as one CommonJS file)\n");
    process.exit(2);
  }
  writeAtomically(out, await transpiledDriver());
}
