/** Every property file in this directory (adding a property: add its file; it is found here). */
import { readdirSync } from "node:fs";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import type { PropertyDefinition } from "../src/property.ts";

const directory = fileURLToPath(new URL(".", import.meta.url));
// .ts in a checkout (run through tsx), .js in the package (compiled to dist/): the property files are this file's kind.
const moduleExtension = extname(fileURLToPath(import.meta.url));

export async function loadProperties(): Promise<PropertyDefinition[]> {
  const files = readdirSync(directory).filter((file) => file.endsWith(moduleExtension) && file !== `index${moduleExtension}`).sort();
  const modules = await Promise.all(files.map((file) => import(new URL(file, import.meta.url).href) as Promise<{ property: PropertyDefinition }>));
  return modules.map((module) => module.property);
}
