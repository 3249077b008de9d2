#ifndef CICWS_PREFETCH_H
#define CICWS_PREFETCH_H

#include <stdint.h>

/// Asks the CPU to bring the cache lines that hold the `bytes` bytes from `address` closer, without waiting for
/// them: a fan-out loop names the objects of streams a few steps ahead, so that their cache misses overlap
/// instead of following one another. Only a hint: it never faults (any address will do), and it changes no
/// memory.
static inline void icws_prefetch(const void *address, long bytes) {
    const char *end = (const char *)address + bytes;
    for (const char *line = (const char *)((uintptr_t)address & ~(uintptr_t)63); line < end; line += 64) {
        __builtin_prefetch(line, 1, 3);
    }
}

#endif
