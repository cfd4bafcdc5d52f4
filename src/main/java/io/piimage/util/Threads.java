package io.piimage.util;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;

/** Thread pools for piimage's parallel steps: named (they show in a thread dump) and daemon threads. */
public final class Threads {

    private Threads() {
    }

    /**
     * Up to {@code wanted} threads, never more than the machine's cores, at least one. Daemon threads: a
     * pool someone forgot to shut down after a failure must not keep the JVM from exiting.
     */
    public static ExecutorService pool(String name, int wanted) {
        int threads = Math.max(1, Math.min(wanted, Runtime.getRuntime().availableProcessors()));
        return Executors.newFixedThreadPool(threads, daemon(name));
    }

    /** A factory of daemon threads called {@code name}. */
    public static ThreadFactory daemon(String name) {
        return task -> {
            Thread thread = new Thread(task, name);
            thread.setDaemon(true);
            return thread;
        };
    }
}
