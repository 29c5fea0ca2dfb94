/**
 * What a run puts under the properties: an implementation's name (a row of
 * harness/implementations/index.ts) and the options of the command line that
 * its adapter reads. Pure data, so that options, targets and reports share it.
 */
export interface ImplementationSpec {
  name: string;
  /** --goroot: the Go toolchain to build the Go driver with (an absolute path). */
  goroot?: string;
  /** --impl-cmd: the shell command line that serves the protocol. */
  command?: string;
}
