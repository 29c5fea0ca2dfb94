/*
 * pidfd.c: the driver's independent look at a pidfd (pidfd.h): through
 * procfs and waitid, not through the spawn that returned it.
 */
#include "pidfd.h"
#include "vfc.h"

static long read_small_file(const char *path, char *text, long capacity) {
  long fd = SYS4(NR_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
  if (IS_SYSCALL_ERROR(fd)) return fd;
  long got = 0;
  for (;;) {
    long r = SYS3(NR_read, fd, text + got, capacity - 1 - got);
    if (r == -4) continue;
    if (r <= 0) break;
    got += r;
  }
  SYS1(NR_close, fd);
  text[got] = 0;
  return got;
}

int pidfd_target_pid(int fd, long *pid) {
  struct buffer path = {0};
  buffer_append_string(&path, "/proc/self/fdinfo/");
  buffer_append_decimal(&path, fd);
  buffer_append(&path, "", 1);
  char text[1024];
  long length = read_small_file(path.data, text, sizeof text);
  buffer_free(&path);
  if (IS_SYSCALL_ERROR(length)) return 0;
  /* "Pid:\t<n>" at the start of a line ("NSpid:" is another line). */
  for (long i = 0; i + 4 <= length; i++) {
    if ((i > 0 && text[i - 1] != '\n') || !starts_with(text + i, (size_t)(length - i), "Pid:")) continue;
    long at = i + 4;
    while (at < length && (text[at] == '\t' || text[at] == ' ')) at++;
    long end = at;
    while (end < length && text[end] != '\n') end++;
    return parse_decimal(text + at, (size_t)(end - at), pid) == 0;
  }
  return 0;
}

long count_open_pidfds(void) {
  int fds[1024];
  long count = list_open_descriptors(fds, 1024), pidfds = 0;
  for (long i = 0; i < count; i++) {
    long pid;
    pidfds += pidfd_target_pid(fds[i], &pid);
  }
  return pidfds;
}

const char *returned_descriptor_state(int fd) {
  long pid;
  if (IS_SYSCALL_ERROR(SYS3(NR_fcntl, fd, F_GETFD, 0))) return "closed";
  return pidfd_target_pid(fd, &pid) ? "pidfd" : "other";
}

long reap_through_pidfd(int fd, int *status) {
  unsigned char info[128] __attribute__((aligned(8))); /* siginfo_t */
  memset(info, 0, sizeof info);
  long r;
  do r = SYS5(NR_waitid, P_PIDFD, fd, info, WEXITED, NULL); while (r == -4);
  if (IS_SYSCALL_ERROR(r)) return r;
  int code = *(int *)(info + SIGINFO_CODE_OFFSET), value = *(int *)(info + SIGINFO_STATUS_OFFSET);
  *status = code == CLD_EXITED ? (value & 0xff) << 8 : value & 0x7f;
  return *(int *)(info + SIGINFO_PID_OFFSET);
}
