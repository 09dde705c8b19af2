/*
 * Copyright The Gyre authors. Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * A disk whose flush is slow, for benchmarks: loaded with LD_PRELOAD, it adds SLOWSYNC_US microseconds (default
 * 1000) to every fsync and fdatasync of the process and of the processes it starts, such as the embedded PostgreSQL
 * server of EventStoreBenchmark -Dbench.db=durable. A network-attached volume in a cloud flushes in about 0.5-2 ms;
 * a local SSD, as on most development machines, in far less, which hides what sharing a commit saves.
 *
 * Build: gcc -shared -fPIC -O2 -o libslowsync.so examples/tools/slowsync.c -ldl
 * Use:   LD_PRELOAD=$PWD/libslowsync.so SLOWSYNC_US=1000 java ... io.gyre.examples.bench.EventStoreBenchmark
 *        (with -Dbench.db=durable; PostgreSQL's WAL flush on Linux is fdatasync by default)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long delay_us = -1;

static void pause_for_flush(void) {
    if (delay_us < 0) {
        const char *value = getenv("SLOWSYNC_US");
        delay_us = value ? atol(value) : 1000;
    }
    struct timespec left = { delay_us / 1000000, (delay_us % 1000000) * 1000 };
    while (nanosleep(&left, &left) != 0) {
    }
}

int fsync(int fd) {
    static int (*real)(int);
    if (!real) {
        real = (int (*)(int)) dlsym(RTLD_NEXT, "fsync");
    }
    pause_for_flush();
    return real(fd);
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) {
        real = (int (*)(int)) dlsym(RTLD_NEXT, "fdatasync");
    }
    pause_for_flush();
    return real(fd);
}
