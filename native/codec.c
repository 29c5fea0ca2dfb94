/* codec.c: see codec.h. Built into the reference driver, and with
 * -DVFC_HOSTED into impls/glibc's driver. */
#ifdef VFC_HOSTED
#include <signal.h> /* SA_*: the kernel's values, as vfc.h's */
#include <stddef.h>
#else
#include "vfc.h"
#endif
#include "codec.h"

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int parse_decimal(const char *s, size_t n, long *out) {
  int negative = n > 0 && s[0] == '-';
  size_t i = negative ? 1 : 0;
  if (i == n || n - i > 18) return -1;
  long long v = 0;
  for (; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  /* A 32-bit long cannot hold 18 digits: refuse what does not fit. */
  if ((long long)(long)v != v) return -1;
  *out = negative ? -(long)v : (long)v;
  return 0;
}

int parse_hex_number(const char *s, size_t n, unsigned long *out) {
  if (n == 0 || n > 2 * sizeof(unsigned long)) return -1;
  unsigned long v = 0;
  for (size_t i = 0; i < n; i++) {
    int d = hex_value(s[i]);
    if (d < 0) return -1;
    v = v << 4 | (unsigned long)d;
  }
  *out = v;
  return 0;
}

int decode_hex(const char *s, size_t n, char *out) {
  if (n % 2) return -1;
  for (size_t i = 0; i < n; i += 2) {
    int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);
    if (hi < 0 || lo < 0) return -1;
    out[i / 2] = (char)(hi << 4 | lo);
  }
  return 0;
}

long decode_item_bytes(const char *s, size_t n, char *out) {
  if (n < 1 || s[0] != 'x') return -1;
  long length = 0;
  for (size_t i = 1; i < n;) {
    if (s[i] == '*') { /* "*<count>;": the previous byte, count more times */
      size_t end = i + 1;
      while (end < n && s[end] != ';') end++;
      long count;
      if (length == 0 || end == n || parse_decimal(s + i + 1, end - i - 1, &count) || count < 1 || count > MAX_REPEAT_COUNT) return -1;
      for (long k = 0; out && k < count; k++) out[length + k] = out[length - 1];
      length += count;
      i = end + 1;
      continue;
    }
    if (i + 1 >= n) return -1;
    int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);
    if (hi < 0 || lo < 0) return -1;
    if (out) out[length] = (char)(hi << 4 | lo);
    length++;
    i += 2;
  }
  return length;
}

char *decode_item(const char *s, size_t n, codec_allocator allocate, void *context) {
  long length = decode_item_bytes(s, n, NULL);
  if (length < 0) return NULL;
  char *out = allocate(context, (size_t)length + 1);
  if (!out) return NULL;
  decode_item_bytes(s, n, out);
  out[length] = 0;
  return out;
}

char **decode_list(const char *s, size_t n, codec_allocator allocate, void *context) {
  size_t count = 0;
  if (n) {
    count = 1;
    for (size_t i = 0; i < n; i++) count += s[i] == ',';
  }
  if (count > MAX_LIST_ITEMS) return NULL;
  char **items = allocate(context, (count + 1) * sizeof(char *));
  if (!items) return NULL;
  size_t start = 0, k = 0;
  for (size_t i = 0; n && i <= n; i++) {
    if (i == n || s[i] == ',') {
      items[k] = decode_item(s + start, i - start, allocate, context);
      if (!items[k++]) return NULL;
      start = i + 1;
    }
  }
  items[k] = NULL;
  return items;
}

int decode_numbers(const char *s, size_t n, int *out, int capacity) {
  int count = 0;
  size_t start = 0;
  for (size_t i = 0; n && i <= n; i++) {
    if (i == n || s[i] == ',') {
      long v;
      if (count == capacity || parse_decimal(s + start, i - start, &v) || v < 0 || v > 1023) return -1;
      out[count++] = (int)v;
      start = i + 1;
    }
  }
  return count;
}

static int same_text(const char *s, size_t n, const char *text) {
  size_t i = 0;
  while (i < n && text[i] && s[i] == text[i]) i++;
  return i == n && !text[i];
}

int decode_handler_flags(const char *s, size_t n, unsigned long *flags) {
  static const struct {
    const char *name;
    unsigned long flag;
  } known[] = {{"restart", SA_RESTART}, {"nodefer", SA_NODEFER}, {"onstack", SA_ONSTACK}};
  *flags = 0;
  size_t start = 0;
  for (size_t i = 0; n && i <= n; i++) {
    if (i < n && s[i] != ',') continue;
    size_t k = 0;
    while (k < sizeof known / sizeof known[0] && !same_text(s + start, i - start, known[k].name)) k++;
    if (k == sizeof known / sizeof known[0]) return -1;
    *flags |= known[k].flag;
    start = i + 1;
  }
  return 0;
}

static size_t text_length(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

static void encode_text(codec_append append, void *out, const char *text) {
  append(out, text, text_length(text));
}

static void encode_key(codec_append append, void *out, const char *key) {
  encode_text(append, out, " ");
  encode_text(append, out, key);
  encode_text(append, out, "=");
}

static void encode_decimal(codec_append append, void *out, long value) {
  char digits[24];
  size_t at = sizeof digits;
  unsigned long magnitude = value < 0 ? 0UL - (unsigned long)value : (unsigned long)value;
  do digits[--at] = (char)('0' + magnitude % 10); while ((magnitude /= 10) != 0);
  if (value < 0) digits[--at] = '-';
  append(out, digits + at, sizeof digits - at);
}

/* exited:N or signaled:N, from a wait status. */
static void encode_status(codec_append append, void *out, int status) {
  if ((status & 0x7f) == 0) {
    encode_text(append, out, "exited:");
    encode_decimal(append, out, (status >> 8) & 0xff);
  } else {
    encode_text(append, out, "signaled:");
    encode_decimal(append, out, status & 0x7f);
  }
}

/* The report as an item, trailing LFs stripped. */
static void encode_report(codec_append append, void *out, const char *report, size_t report_length) {
  static const char hex_digits[] = "0123456789abcdef";
  encode_text(append, out, "x");
  while (report_length && report[report_length - 1] == '\n') report_length--;
  for (size_t i = 0; i < report_length; i++) {
    unsigned char byte = (unsigned char)report[i];
    char pair[2] = {hex_digits[byte >> 4], hex_digits[byte & 15]};
    append(out, pair, 2);
  }
}

void encode_spawned_fields(codec_append append, void *out, long pid, int waited, int status,
                           const char *suspended, const char *report, size_t report_length) {
  encode_key(append, out, "outcome");
  encode_text(append, out, "spawned");
  encode_key(append, out, "pid");
  encode_decimal(append, out, pid);
  encode_key(append, out, "waited");
  encode_decimal(append, out, waited ? 1 : 0);
  encode_key(append, out, "status");
  encode_status(append, out, status);
  encode_key(append, out, "suspended");
  encode_text(append, out, suspended);
  encode_key(append, out, "report");
  encode_report(append, out, report, report_length);
}

void encode_spawn_outcome(codec_append append, void *out, long pid, int waited, int status,
                          const char *report, size_t report_length) {
  if (pid <= 0) {
    encode_text(append, out, "error/");
    encode_decimal(append, out, -pid);
    return;
  }
  encode_text(append, out, "spawned/");
  encode_decimal(append, out, pid);
  encode_text(append, out, waited ? "/1/" : "/0/");
  encode_status(append, out, status);
  encode_text(append, out, "/");
  encode_report(append, out, report, report_length);
}

void encode_leftover_fields(codec_append append, void *out, long zombies, int live_children, long leaked_descriptors) {
  encode_key(append, out, "zombies");
  encode_decimal(append, out, zombies);
  encode_key(append, out, "live_children");
  encode_decimal(append, out, live_children ? 1 : 0);
  encode_key(append, out, "leaked_fds");
  encode_decimal(append, out, leaked_descriptors);
}

void encode_failed_pidfd(codec_append append, void *out, long value, const char *is) {
  encode_key(append, out, "failed_pidfd");
  encode_decimal(append, out, value);
  if (value < 0) return;
  encode_key(append, out, "failed_pidfd_is");
  encode_text(append, out, is);
}

long source_base_above(long base, const int *targets, int target_count) {
  for (int i = 0; i < target_count; i++)
    if (targets[i] + 1 > base) base = targets[i] + 1;
  return base;
}
