/*
 * The startup check: the smallest program that starts the libc the way the
 * driver does (static startup, IRELATIVE relocations, stdio, the string
 * functions' ifuncs), linked exactly like the driver
 * (harness/build/libc-driver.ts). If it cannot print this line, the driver
 * cannot say hello either (harness/targets/startup-check.ts).
 */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  char line[64];
  memset(line, 0, sizeof line);
  strncpy(line, argc > 0 ? argv[0] : "", sizeof line - 1);
  printf("startup-check %zu\n", strlen(line));
  return 0;
}
