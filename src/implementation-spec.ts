/**
 * What a run puts under the properties: an implementation's name (a row of
 * harness/implementations/index.ts) and the options of the command line that
 * its adapter reads. Pure data, so that options, targets and reports share it.
 */
import { architectures, findArchitecture, type ArchitectureName } from "./architectures.ts";
import { findRelease, isRuntimeName, releasesOf, runtimeNames } from "./runtime-releases.ts";
import { UsageError } from "./usage-error.ts";

export interface ImplementationSpec {
  name: string;
  /** `--impl NAME@VERSION`: a release of src/runtime-releases.ts; absent: the runtime's default release. */
  version?: string;
  /** --goroot: the Go toolchain to build the Go driver with (an absolute path). */
  goroot?: string;
  /** --libc-root: an installed glibc or musl tree (headers, crt objects, libc.a) to build the libc driver against (an absolute path). */
  libcRoot?: string;
  /** --python: a CPython build tree or install prefix to run the Python driver with (an absolute path). */
  pythonRoot?: string;
  /** --node: a node executable of the maintainer's own (an absolute path), with its libuv. */
  nodeBinary?: string;
  /** --impl-cmd: the shell command line that serves the protocol. */
  command?: string;
  /** --impl-binary: one static driver program per architecture, in the order given. */
  binaries?: BinaryDriver[];
}

export interface BinaryDriver {
  architecture: ArchitectureName;
  path: string;
}

/**
 * --impl-binary ARCH=PATH[,ARCH=PATH...]: the syntax only (known
 * architectures, each once, a non-empty path); whether each file is a driver
 * for its architecture is the adapter's check (it reads the file).
 */
export function parseBinaryDrivers(text: string): BinaryDriver[] {
  const seen = new Set<string>();
  return text.split(",").map((item) => {
    const equals = item.indexOf("=");
    if (equals <= 0 || equals === item.length - 1) throw new UsageError(`--impl-binary: '${item}' is not ARCH=PATH`);
    const name = item.slice(0, equals);
    const architecture = findArchitecture(name);
    if (architecture === undefined) throw new UsageError(`--impl-binary: unknown architecture '${name}' (known: ${architectures.map((known) => known.name).join(",")})`);
    if (seen.has(name)) throw new UsageError(`--impl-binary: ${name} is given twice`);
    seen.add(name);
    return { architecture: architecture.name, path: item.slice(equals + 1) };
  });
}

/**
 * One item of --impl: "go", "go@1.24" or "go@all" (every release the table
 * lists). Unknown names and versions are usage errors naming what is known.
 */
export function parseImplementationItem(item: string, names: readonly string[]): ImplementationSpec[] {
  const [name = "", version, ...rest] = item.split("@");
  if (!names.includes(name)) throw new UsageError(`--impl: unknown implementation '${name}' (known: ${names.join(",")}; any other program: --impl-cmd "COMMAND")`);
  if (version === undefined) return [{ name }];
  if (rest.length > 0 || version === "") throw new UsageError(`--impl: '${item}' is not NAME or NAME@VERSION`);
  if (!isRuntimeName(name)) throw new UsageError(`--impl: ${name} has no releases (releases: ${runtimeNames.join(", ")})`);
  const known = releasesOf(name).map((release) => release.version);
  if (version === "all") return known.map((each) => ({ name, version: each }));
  if (findRelease(name, version) === undefined) throw new UsageError(`--impl: ${name} has no release ${version} (known: ${known.join(",")},all)`);
  return [{ name, version }];
}
