/** Bad input from the command line: the CLI prints its message as one line and exits 2. */
export class UsageError extends Error {}
