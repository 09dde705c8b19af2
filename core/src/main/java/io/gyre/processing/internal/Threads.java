package io.gyre.processing.internal;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** Thread factories of processors. Internal: not part of Gyre's API. */
final class Threads {

    private Threads() {
    }

    /**
     * @param prefix the start of each thread's name, followed by a number
     * @return a factory of daemon threads
     */
    static ThreadFactory daemon(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
