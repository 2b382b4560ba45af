/* host_memory.h: what this machine can hold, checked before the runtime allocates a model's
 * weights, KV cache and arena, so a model too large for the host fails with the figures and a
 * hint instead of being killed by the kernel part way through loading. */
#ifndef TTC_HOST_MEMORY_H
#define TTC_HOST_MEMORY_H

#include <stdint.h>

#include "ttc_types.h"

/* The bytes this process may use: physical memory (sysconf pages x page size), or the address
 * space limit (ulimit -v) when that is lower. *what says which ("physical memory", "the address
 * space limit (ulimit -v)"). 0 when neither is known. */
int64_t ttc_host_memory_bytes(const char **what);

/* "12.5 GiB", "640.0 MiB", "512 bytes" into buf. */
const char *ttc_bytes_text(int64_t bytes, char *buf, size_t n);

/* A user error when `need` bytes (for `what`, e.g. "plan.bin's weights, KV cache and
 * activations") exceed what the host holds; `hint` says what to change. */
TtcStatus ttc_host_memory_check(int64_t need, const char *what, const char *hint, TtcError *err);

#endif
