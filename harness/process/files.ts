/** Small reads of this machine's files that several stages make: the first bytes of a program, what a path is. */
import { closeSync, openSync, readSync, statSync } from "node:fs";

/** The first `bytes` of a file (fewer when it is shorter): an ELF header, its program headers, PT_INTERP. */
export function readFileHead(path: string, bytes: number): Buffer {
  const descriptor = openSync(path, "r");
  try {
    const buffer = Buffer.alloc(bytes);
    return buffer.subarray(0, readSync(descriptor, buffer, 0, bytes, 0));
  } finally {
    closeSync(descriptor);
  }
}

/** The path is a directory (following links); false when it is not, or does not exist. */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The path is a regular file (following links); false when it is not, or does not exist. */
export function isRegularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
