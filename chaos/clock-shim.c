/*
 * A wall-clock step for one process, as an NTP step or a VM resume makes it: LD_PRELOADed into a
 * chaos candidate (clock.ts builds it with `cc` into the run's work dir). It adds an offset to the
 * wall clock only: clock_gettime(CLOCK_REALTIME, CLOCK_REALTIME_COARSE), gettimeofday and time.
 * CLOCK_MONOTONIC and CLOCK_BOOTTIME pass through untouched, because a step does not move them, and
 * the chaos suite stamps every event with the shared monotonic clock.
 *
 * The offset is the signed whole number of milliseconds in `$PRIMACY_CLOCK_DIR/clock-<pid>`
 * (missing or unreadable: 0). It is re-read at most every 5 ms, so the orchestrator can step a
 * running process by rewriting the file, and Date.now() stays cheap.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

static clock_gettime_fn real_clock_gettime;
/* Shared by every thread; a race only costs one more read of the file. */
static long long offset_ns;
static long long next_read_ns;

static clock_gettime_fn real(void) {
  clock_gettime_fn fn = __atomic_load_n(&real_clock_gettime, __ATOMIC_ACQUIRE);
  if (!fn) {
    fn = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
    __atomic_store_n(&real_clock_gettime, fn, __ATOMIC_RELEASE);
  }
  return fn;
}

/* Reads the file with raw syscalls only: no stdio, no malloc, safe in any thread. */
static long long read_offset_ns(void) {
  const char *dir = getenv("PRIMACY_CLOCK_DIR");
  if (!dir) return 0;
  char path[4096];
  if (snprintf(path, sizeof path, "%s/clock-%d", dir, (int)getpid()) >= (int)sizeof path) return 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char text[32];
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0) return 0;
  text[n] = '\0';
  return strtoll(text, NULL, 10) * 1000000LL;
}

static long long current_offset_ns(void) {
  struct timespec now;
  if (real()(CLOCK_MONOTONIC, &now) != 0) return __atomic_load_n(&offset_ns, __ATOMIC_RELAXED);
  long long t = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
  if (t >= __atomic_load_n(&next_read_ns, __ATOMIC_RELAXED)) {
    __atomic_store_n(&next_read_ns, t + 5000000LL, __ATOMIC_RELAXED);
    __atomic_store_n(&offset_ns, read_offset_ns(), __ATOMIC_RELAXED);
  }
  return __atomic_load_n(&offset_ns, __ATOMIC_RELAXED);
}

static void shift(struct timespec *ts, long long by_ns) {
  long long ns = (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec + by_ns;
  ts->tv_sec = (time_t)(ns / 1000000000LL);
  ts->tv_nsec = (long)(ns % 1000000000LL);
  if (ts->tv_nsec < 0) {
    ts->tv_nsec += 1000000000L;
    ts->tv_sec -= 1;
  }
}

int clock_gettime(clockid_t id, struct timespec *ts) {
  int result = real()(id, ts);
  if (result == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) shift(ts, current_offset_ns());
  return result;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
  (void)tz; /* obsolete; glibc ignores it too */
  struct timespec ts;
  int result = clock_gettime(CLOCK_REALTIME, &ts);
  if (result == 0) { /* tv is declared nonnull, as in glibc */
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;
  }
  return result;
}

time_t time(time_t *out) {
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return (time_t)-1;
  if (out) *out = ts.tv_sec;
  return ts.tv_sec;
}
