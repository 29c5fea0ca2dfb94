/**
 * --libc-root: an installed glibc or musl tree to build the libc driver
 * against, one per architecture. The option's syntax, and what can be read
 * of a tree's files without running anything (its architecture from an
 * object's ELF header, its version from a header or from libc.a). Pure:
 * text and bytes in, answers out; the files are read in harness/build/libc-root.ts.
 */
import { architectures, findArchitecture, type ArchitectureName } from "./architectures.ts";
import { elfIdentities, readElfHeader } from "./elf-header.ts";
import { UsageError } from "./usage-error.ts";

/** One tree: for the architecture named (ARCH=DIR), or for the one its objects are built for (DIR). */
export interface LibcRootEntry {
  architecture?: ArchitectureName;
  path: string;
}

/**
 * `DIR` (its architecture read from the tree) or `ARCH=DIR[,ARCH=DIR...]`,
 * like --impl-binary's list. A value that does not start with a known
 * architecture and '=' is one directory, commas and all.
 */
export function parseLibcRootOption(flag: string, text: string): LibcRootEntry[] {
  if (text === "") throw new UsageError(`${flag} needs a value (DIR, or ARCH=DIR,... for several architectures)`);
  const first = /^([a-z0-9]+)=/.exec(text);
  if (first === null || findArchitecture(first[1]!) === undefined) return [{ path: text }];
  const seen = new Set<string>();
  return text.split(",").map((item) => {
    const equals = item.indexOf("=");
    if (equals <= 0 || equals === item.length - 1) throw new UsageError(`${flag}: '${item}' is not ARCH=DIR`);
    const name = item.slice(0, equals);
    const architecture = findArchitecture(name);
    if (architecture === undefined) throw new UsageError(`${flag}: unknown architecture '${name}' (known: ${architectures.map((known) => known.name).join(",")})`);
    if (seen.has(name)) throw new UsageError(`${flag}: ${name} is given twice`);
    seen.add(name);
    return { architecture: architecture.name, path: item.slice(equals + 1) };
  });
}

/** The option's text again (after the paths were made absolute): what a spec carries and a replay command repeats. */
export function formatLibcRootOption(entries: readonly LibcRootEntry[]): string {
  return entries.map((entry) => (entry.architecture ? `${entry.architecture}=${entry.path}` : entry.path)).join(",");
}

/** The architecture an object file (crt1.o) is built for, or a sentence saying why none of ours. */
export function architectureOfObject(bytes: Buffer): ArchitectureName | string {
  const header = readElfHeader(bytes);
  if (typeof header === "string") return header;
  const found = (Object.entries(elfIdentities) as [ArchitectureName, (typeof elfIdentities)[ArchitectureName]][]).find(
    ([, identity]) => identity.machine === header.machine && identity.bits === header.bits && identity.bigEndian === header.bigEndian,
  );
  return found ? found[0] : `an ELF object for e_machine ${header.machine}, ${header.bits}-bit, ${header.bigEndian ? "big" : "little"}-endian: none of the architectures this suite runs`;
}

/** glibc's version from its <features.h> (__GLIBC__ and __GLIBC_MINOR__), e.g. "2.36". */
export function glibcVersionOfFeatures(text: string): string | undefined {
  const major = /^#\s*define\s+__GLIBC__\s+(\d+)/m.exec(text);
  const minor = /^#\s*define\s+__GLIBC_MINOR__\s+(\d+)/m.exec(text);
  return major && minor ? `${major[1]}.${minor[1]}` : undefined;
}

/**
 * One member of an ar archive (libc.a) by name, System V/GNU format ("name/"
 * or a "/offset" into the long-names table); undefined when absent.
 */
export function archiveMember(archive: Buffer, wanted: string): Buffer | undefined {
  if (archive.subarray(0, 8).toString("latin1") !== "!<arch>\n") return undefined;
  let longNames: Buffer | undefined;
  for (let at = 8; at + 60 <= archive.length; ) {
    const field = archive.subarray(at, at + 16).toString("latin1").trimEnd();
    const size = Number(archive.subarray(at + 48, at + 58).toString("latin1").trim());
    if (!Number.isInteger(size) || size < 0) return undefined;
    const body = archive.subarray(at + 60, at + 60 + size);
    let name = field;
    if (field === "//") longNames = body;
    else if (/^\/\d+$/.test(field) && longNames) {
      const start = Number(field.slice(1));
      const end = longNames.indexOf("/\n", start);
      name = longNames.subarray(start, end < 0 ? undefined : end).toString("latin1");
    } else name = field.replace(/\/$/, "");
    if (name === wanted) return body;
    at += 60 + size + (size % 2);
  }
  return undefined;
}

/**
 * musl's version: the string its src/internal/version.c compiles in
 * (VERSION, or `git describe` of a checkout), from that member of libc.a
 * (version.o, version.lo in some releases' archives).
 */
export function muslVersionOfArchive(archive: Buffer): string | undefined {
  for (const name of ["version.o", "version.lo"]) {
    const member = archiveMember(archive, name);
    if (member === undefined) continue;
    const found = /\0(\d+\.\d+\.\d+[0-9A-Za-z.+~-]*)\0/.exec(member.toString("latin1"));
    if (found) return found[1];
  }
  return undefined;
}

/** The option with each directory made absolute by `absolute` (path.resolve): what ImplementationSpec.libcRoot carries. */
export function absoluteLibcRootOption(flag: string, text: string, absolute: (path: string) => string): string {
  return formatLibcRootOption(parseLibcRootOption(flag, text).map((entry) => ({ ...entry, path: absolute(entry.path) })));
}
