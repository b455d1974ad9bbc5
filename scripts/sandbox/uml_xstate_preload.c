/* uml_xstate_preload: an LD_PRELOAD library for Debian bookworm's User-Mode Linux (linux.uml 6.1)
 * on hosts whose XSAVE area is larger than UML's FPU buffer.
 *
 * Why: UML keeps each guest task's FPU state in a fixed buffer (2,696 bytes in Debian's build:
 * x87/SSE, AVX and AVX-512) and restores it with ptrace(PTRACE_SETREGSET, pid, NT_X86_XSTATE,
 * {buf, 2696}). The host kernel accepts SETREGSET only with the whole XSAVE area (count == its
 * user xstate size: 11,008 bytes with AMX tile data) and answers EFAULT otherwise, so the guest's
 * init dies at its first context switch ("ptrace set fp regs failed, errno = 14").
 *
 * What: GETREGSET/SETREGSET for NT_X86_XSTATE whose iov_len is smaller than the host's size are
 * served from a full-size copy kept per caller buffer. UML passes each guest task's own buffer,
 * so the buffer's address identifies the task: its AVX-512/AMX state survives context switches
 * as well as the part UML knows about.
 *   GET: read the whole area into the task's copy, hand the caller its first iov_len bytes.
 *   SET: overlay the caller's bytes (legacy area, XSAVE header, AVX...) on the task's copy and set
 *        the whole area. A buffer never read before (a new task) starts from the target's
 *        current state.
 * Every other request goes unchanged to glibc's ptrace. Contract: loaded into linux.uml only
 * (scripts/vcan-sandbox sets LD_PRELOAD on that one command, never for the guest's programs).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif

typedef long (*ptrace_fn)(int, pid_t, void*, void*);

enum { kSlots = 4096, kProbeBytes = 1 << 16 };

struct slot {
  void* caller_buf; /* the guest task's FPU buffer inside UML; NULL = free */
  unsigned char* full;
};

static struct slot slots[kSlots];
static size_t host_size; /* the host's user XSAVE size; 0 = not known yet */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static ptrace_fn real_ptrace(void) {
  static ptrace_fn fn;
  if (!fn) fn = (ptrace_fn)dlsym(RTLD_NEXT, "ptrace");
  return fn;
}

/* The kernel trims iov_len to what it wrote, so a large probe reveals the area's size. */
static int learn_host_size(pid_t pid) {
  if (host_size) return 0;
  struct iovec iov = {malloc(kProbeBytes), kProbeBytes};
  if (!iov.iov_base) return -1;
  long rc = real_ptrace()(PTRACE_GETREGSET, pid, (void*)NT_X86_XSTATE, &iov);
  if (rc == 0) host_size = iov.iov_len;
  free(iov.iov_base);
  return rc == 0 ? 0 : -1;
}

/* The slot of caller_buf, created (full copy unset) if it has none. When the table is full the
 * home slot is reused: its next SET starts from the target's current state, as for a new task. */
static struct slot* slot_for(void* caller_buf, int* is_new) {
  size_t home = ((uintptr_t)caller_buf >> 4) % kSlots;
  for (size_t i = 0; i < kSlots; i++) {
    struct slot* s = &slots[(home + i) % kSlots];
    if (s->caller_buf == caller_buf) {
      *is_new = 0;
      return s;
    }
    if (!s->caller_buf) {
      home = (home + i) % kSlots;
      break;
    }
  }
  struct slot* s = &slots[home];
  if (!s->full) s->full = malloc(host_size);
  s->caller_buf = caller_buf;
  *is_new = 1;
  return s->full ? s : NULL;
}

static long read_full(pid_t pid, unsigned char* full) {
  struct iovec iov = {full, host_size};
  return real_ptrace()(PTRACE_GETREGSET, pid, (void*)NT_X86_XSTATE, &iov);
}

static long get_short(pid_t pid, struct iovec* iov) {
  int is_new;
  struct slot* s = slot_for(iov->iov_base, &is_new);
  if (!s) {
    errno = ENOMEM;
    return -1;
  }
  long rc = read_full(pid, s->full);
  if (rc == 0) memcpy(iov->iov_base, s->full, iov->iov_len);
  return rc;
}

static long set_short(pid_t pid, const struct iovec* iov) {
  int is_new;
  struct slot* s = slot_for(iov->iov_base, &is_new);
  if (!s) {
    errno = ENOMEM;
    return -1;
  }
  if (is_new && read_full(pid, s->full) != 0) return -1;
  memcpy(s->full, iov->iov_base, iov->iov_len);
  struct iovec whole = {s->full, host_size};
  return real_ptrace()(PTRACE_SETREGSET, pid, (void*)NT_X86_XSTATE, &whole);
}

long ptrace(enum __ptrace_request request, ...) {
  va_list ap;
  va_start(ap, request);
  pid_t pid = va_arg(ap, pid_t);
  void* addr = va_arg(ap, void*);
  void* data = va_arg(ap, void*);
  va_end(ap);
  int regset = request == PTRACE_GETREGSET || request == PTRACE_SETREGSET;
  if (!regset || (uintptr_t)addr != NT_X86_XSTATE || !data)
    return real_ptrace()(request, pid, addr, data);

  struct iovec* iov = data;
  pthread_mutex_lock(&lock);
  long rc;
  if (learn_host_size(pid) != 0 || iov->iov_len >= host_size)
    rc = real_ptrace()(request, pid, addr, data);
  else
    rc = request == PTRACE_GETREGSET ? get_short(pid, iov) : set_short(pid, iov);
  int saved = errno;
  pthread_mutex_unlock(&lock);
  errno = saved;
  return rc;
}
