/** Every property file in this directory (adding a property: add its file; it is found here). */
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { PropertyDefinition } from "../src/property.ts";

const directory = fileURLToPath(new URL(".", import.meta.url));

export async function loadProperties(): Promise<PropertyDefinition[]> {
  const files = readdirSync(directory).filter((file) => file.endsWith(".ts") && file !== "index.ts").sort();
  const modules = await Promise.all(files.map((file) => import(new URL(file, import.meta.url).href) as Promise<{ property: PropertyDefinition }>));
  return modules.map((module) => module.property);
}
