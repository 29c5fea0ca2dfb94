/* common.c: the few libc pieces the freestanding programs need. */
#include "vfc.h"

/* clang may emit calls to these even with -ffreestanding. */
void *memset(void *d, int c, size_t n) {
  unsigned char *p = d;
  while (n--) *p++ = (unsigned char)c;
  return d;
}
void *memcpy(void *d, const void *s, size_t n) {
  unsigned char *p = d;
  const unsigned char *q = s;
  while (n--) *p++ = *q++;
  return d;
}
void *memmove(void *d, const void *s, size_t n) {
  unsigned char *p = d;
  const unsigned char *q = s;
  if (p < q) {
    while (n--) *p++ = *q++;
  } else {
    while (n--) p[n] = q[n];
  }
  return d;
}
int memcmp(const void *a, const void *b, size_t n) {
  const unsigned char *p = a, *q = b;
  for (; n; n--, p++, q++)
    if (*p != *q) return *p - *q;
  return 0;
}
size_t string_length(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}
int string_equal(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}
int starts_with(const char *s, size_t n, const char *prefix) {
  size_t k = string_length(prefix);
  return n >= k && memcmp(s, prefix, k) == 0;
}

__attribute__((noreturn)) void exit_group(int code) {
  for (;;) SYS1(NR_exit_group, code);
}

static void *map_private(size_t bytes, long extra_flags) {
  long r = raw_syscall6(NR_mmap, 0, (long)bytes, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | extra_flags, -1, 0);
  return IS_SYSCALL_ERROR(r) ? NULL : (void *)r;
}
void *map_anonymous(size_t bytes) {
  return map_private(bytes, 0);
}
/* Faulted in by the kernel at mmap, in bulk: far quicker than one fault
 * per page where faults are dear (a VM without nested paging). */
void *map_populated(size_t bytes) {
  return map_private(bytes, MAP_POPULATE);
}
void unmap(void *p, size_t bytes) {
  if (p) SYS2(NR_munmap, p, bytes);
}

void buffer_reserve(struct buffer *b, size_t extra) {
  if (b->length + extra <= b->capacity) return;
  size_t capacity = b->capacity ? b->capacity : 4096;
  while (capacity < b->length + extra) capacity *= 2;
  char *data = map_anonymous(capacity);
  if (!data) exit_group(125); /* out of memory: nothing sensible to report */
  if (b->data) {
    memcpy(data, b->data, b->length);
    unmap(b->data, b->capacity);
  }
  b->data = data;
  b->capacity = capacity;
}
void buffer_append(struct buffer *b, const void *data, size_t n) {
  buffer_reserve(b, n);
  memcpy(b->data + b->length, data, n);
  b->length += n;
}
void buffer_append_string(struct buffer *b, const char *s) {
  buffer_append(b, s, string_length(s));
}
void buffer_append_decimal(struct buffer *b, long value) {
  char digits[24];
  int i = sizeof digits;
  unsigned long v = value < 0 ? -(unsigned long)value : (unsigned long)value;
  do digits[--i] = (char)('0' + v % 10), v /= 10; while (v);
  if (value < 0) digits[--i] = '-';
  buffer_append(b, digits + i, sizeof digits - i);
}
static const char hex_digits[] = "0123456789abcdef";
void buffer_append_hex_number(struct buffer *b, unsigned long value) {
  char digits[20];
  int i = sizeof digits;
  do digits[--i] = hex_digits[value & 15], value >>= 4; while (value);
  buffer_append(b, digits + i, sizeof digits - i);
}
void buffer_append_hex_bytes(struct buffer *b, const void *data, size_t n) {
  const unsigned char *p = data;
  buffer_reserve(b, 2 * n);
  for (size_t i = 0; i < n; i++) {
    b->data[b->length++] = hex_digits[p[i] >> 4];
    b->data[b->length++] = hex_digits[p[i] & 15];
  }
}
/* Runs of one byte this long or longer are sent as "*<count>;" (src/protocol.ts, encodeItem). */
#define SHORTEST_RUN 16

void buffer_append_hex_bytes_with_runs(struct buffer *b, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n;) {
    size_t end = i + 1;
    while (end < n && p[end] == p[i]) end++;
    if (end - i >= SHORTEST_RUN) {
      buffer_append_hex_bytes(b, p + i, 1);
      buffer_append_string(b, "*");
      buffer_append_decimal(b, (long)(end - i - 1));
      buffer_append_string(b, ";");
    } else {
      buffer_append_hex_bytes(b, p + i, end - i);
    }
    i = end;
  }
}
void buffer_free(struct buffer *b) {
  unmap(b->data, b->capacity);
  b->data = NULL;
  b->length = b->capacity = 0;
}
int write_all(int fd, const void *data, size_t n) {
  const char *p = data;
  while (n) {
    long r = SYS3(NR_write, fd, p, n);
    if (r == -4) continue; /* EINTR */
    if (IS_SYSCALL_ERROR(r)) return (int)r;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

/* struct linux_dirent64 has the same layout on every architecture. */
struct dirent64 {
  unsigned long long inode;
  long long offset;
  unsigned short record_length;
  unsigned char type;
  char name[];
};
long list_open_descriptors(int *fds, long capacity) {
  long dir = SYS4(NR_openat, AT_FDCWD, "/proc/self/fd", O_RDONLY | O_CLOEXEC, 0);
  if (IS_SYSCALL_ERROR(dir)) return dir;
  long count = 0;
  char entries[2048] __attribute__((aligned(8)));
  for (;;) {
    long n = SYS3(NR_getdents64, dir, entries, sizeof entries);
    if (IS_SYSCALL_ERROR(n)) {
      SYS1(NR_close, dir);
      return n;
    }
    if (n == 0) break;
    for (long at = 0; at < n;) {
      struct dirent64 *entry = (struct dirent64 *)(entries + at);
      long fd;
      if (entry->name[0] != '.' &&
          parse_decimal(entry->name, string_length(entry->name), &fd) == 0 &&
          fd != dir && count < capacity)
        fds[count++] = (int)fd;
      at += entry->record_length;
    }
  }
  SYS1(NR_close, dir);
  /* getdents order is not numeric: sort, for a stable report. */
  for (long i = 1; i < count; i++)
    for (long j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
      int t = fds[j];
      fds[j] = fds[j - 1];
      fds[j - 1] = t;
    }
  return count;
}
