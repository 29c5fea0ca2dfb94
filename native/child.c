/*
 * child.c: the exec target. Reports, as one line, what the child sees:
 *   child argv=<list> env=<list> cwd=<hex> uid=N gid=N euid=N egid=N
 *         pid=N ppid=N pgid=N sid=N fds=N,N,... sigmask=N,... sigignore=N,...
 *         sighandle=N,... fd_links=<list>
 * <list> is comma-separated items, each "x" followed by the item's bytes in
 * hex ("x" alone is the empty string), a run of 16 or more of one byte as
 * "<byte>*<more>;": the environment property's 100 KiB strings come back
 * over a VM's serial console in a few bytes, not as 200 KiB of hex. The line goes to the report pipe:
 * the write end of a pipe of the report's size wherever it is (a driver with
 * report_fd_any puts it where the case says), else REPORT_FD when it is
 * open, else standard output. Found by its shape, not by argv or the
 * environment: those are what the properties compare.
 * fd_links has one item per descriptor of fds above 2, in order: what
 * /proc/self/fd/N links to ("/proc/4321/uid_map", "pipe:[81]"; "x" alone
 * when readlink fails), so a check can say what a leaked descriptor is.
 */
#include "signal-state.h"
#include "vfc.h"

void append_hex_list(struct buffer *out, char **items) {
  for (long i = 0; items && items[i]; i++) {
    if (i) buffer_append_string(out, ",");
    buffer_append_string(out, "x");
    buffer_append_hex_bytes_with_runs(out, items[i], string_length(items[i]));
  }
}

static void append_field(struct buffer *out, const char *name, long value) {
  buffer_append_string(out, " ");
  buffer_append_string(out, name);
  buffer_append_string(out, "=");
  buffer_append_decimal(out, value);
}

extern long auxv_page_size;

/* What descriptor fd is, as readlink("/proc/self/fd/<fd>") says: appended as a list item. */
static void append_descriptor_link(struct buffer *out, int fd) {
  struct buffer path = {0};
  buffer_append_string(&path, "/proc/self/fd/");
  buffer_append_decimal(&path, fd);
  buffer_append(&path, "", 1);
  char link[512];
  long n = SYS4(NR_readlinkat, AT_FDCWD, path.data, link, sizeof link);
  buffer_free(&path);
  buffer_append_string(out, "x");
  if (!IS_SYSCALL_ERROR(n)) buffer_append_hex_bytes_with_runs(out, link, (size_t)n);
}

/* The lowest open descriptor that is the write end of a pipe of the
 * report's size (REPORT_PIPE_BYTES, as this kernel rounds it). */
static int report_descriptor(const int *fds, long count) {
  long report_size = auxv_page_size > REPORT_PIPE_BYTES ? auxv_page_size : REPORT_PIPE_BYTES;
  for (long i = 0; i < count; i++) {
    long mode = SYS2(NR_fcntl, fds[i], F_GETFL);
    if (IS_SYSCALL_ERROR(mode) || (mode & O_ACCMODE) != O_WRONLY) continue;
    if (SYS2(NR_fcntl, fds[i], F_GETPIPE_SZ) == report_size) return fds[i];
  }
  return IS_SYSCALL_ERROR(SYS2(NR_fcntl, REPORT_FD, F_GETFD)) ? 1 : REPORT_FD;
}

void child_report_main(long argc, char **argv, char **envp) {
  (void)argc;
  struct buffer out = {0};
  buffer_append_string(&out, "child argv=");
  append_hex_list(&out, argv);
  buffer_append_string(&out, " env=");
  append_hex_list(&out, envp);
  char cwd[4200];
  long n = SYS2(NR_getcwd, cwd, sizeof cwd);
  buffer_append_string(&out, " cwd=");
  if (!IS_SYSCALL_ERROR(n) && n > 0) buffer_append_hex_bytes(&out, cwd, string_length(cwd));
  append_field(&out, "uid", SYS0(NR_getuid));
  append_field(&out, "gid", SYS0(NR_getgid));
  append_field(&out, "euid", SYS0(NR_geteuid));
  append_field(&out, "egid", SYS0(NR_getegid));
  append_field(&out, "pid", SYS0(NR_getpid));
  append_field(&out, "ppid", SYS0(NR_getppid));
  append_field(&out, "pgid", SYS1(NR_getpgid, 0));
  append_field(&out, "sid", SYS1(NR_getsid, 0));
  int fds[256];
  long count = list_open_descriptors(fds, 256);
  buffer_append_string(&out, " fds=");
  for (long i = 0; i < count; i++) {
    if (i) buffer_append_string(&out, ",");
    buffer_append_decimal(&out, fds[i]);
  }
  buffer_append_string(&out, " fd_links=");
  for (long i = 0, listed = 0; i < count; i++) {
    if (fds[i] <= 2) continue;
    if (listed++) buffer_append_string(&out, ",");
    append_descriptor_link(&out, fds[i]);
  }
  /* What execve left of the signal state: the mask and SIG_IGN inherited,
   * handlers back to SIG_DFL (so sighandle is empty after any exec). */
  append_signal_state(&out);
  buffer_append_string(&out, "\n");
  exit_group(write_all(report_descriptor(fds, count), out.data, out.length) ? 1 : 0);
}
