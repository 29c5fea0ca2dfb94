/** Finding an executable the way a shell would, without starting a process. */
import { accessSync, constants } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";

export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The executable's path on `path` (a PATH value; the harness's own by default); an absolute command, a #! line's, is that file only. */
export function findOnPath(command: string, path = process.env.PATH): string | undefined {
  if (isAbsolute(command)) return isExecutable(command) ? command : undefined;
  for (const directory of (path ?? "").split(delimiter)) {
    if (directory === "") continue;
    const candidate = join(directory, command);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}
