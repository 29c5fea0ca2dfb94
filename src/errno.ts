/** errno numbers: the asm-generic table, with per-architecture overrides. */
import type { Architecture } from "./architectures.ts";

const genericErrno: Record<string, number> = {
  EPERM: 1, ENOENT: 2, EIO: 5, E2BIG: 7, ENOEXEC: 8, EBADF: 9, ECHILD: 10, EAGAIN: 11,
  ENOMEM: 12, EACCES: 13, EFAULT: 14, ENOTDIR: 20, EISDIR: 21, EINVAL: 22, ENOSPC: 28,
  ENAMETOOLONG: 36, ENOSYS: 38, ENOTEMPTY: 39, ELOOP: 40, EUSERS: 87,
};

export type ErrnoName = keyof typeof genericErrno & string;

export function errnoNumber(architecture: Architecture, name: string): number {
  const value = architecture.errnoOverrides[name] ?? genericErrno[name];
  if (value === undefined) throw new Error(`unknown errno name ${name}`);
  return value;
}

export function errnoName(architecture: Architecture, value: number): string {
  if (value === 0) return "0";
  for (const name of Object.keys(genericErrno)) {
    if (errnoNumber(architecture, name) === value) return name;
  }
  return `errno ${value}`;
}
