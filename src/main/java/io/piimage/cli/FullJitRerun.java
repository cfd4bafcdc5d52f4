package io.piimage.cli;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The launchers start the JVM with its quick compiler only ({@link #C1_ONLY_FLAGS}): a bake is over
 * in well under a second, and C1 alone does it with a fifth to a quarter less CPU than both compilers
 * (see README, Benchmarks). RSA key generation is the exception: BigInteger's prime search needs C2's
 * intrinsics and takes more than three times as long without them. So a bake that is about to make
 * a new cluster's keys (and {@code renew}, and what hashes whole images or snapshots) runs itself
 * again, once, as a child JVM with the full JIT, and exits with its status. Only the launchers ask
 * for this (with {@link #PROPERTY}); a JVM started any other way carries on.
 */
final class FullJitRerun {

    /** The launchers set it to {@link #QUICK} together with {@link #C1_ONLY_FLAGS}. */
    static final String PROPERTY = "piimage.jit";
    static final String QUICK = "quick";
    static final String FULL = "full";
    /**
     * The launchers' C1-only flags, left out of the rerun's command line (one C1 compiler thread: on two
     * cores, a second one only competed with the bake; both compilers need at least two threads).
     */
    static final List<String> C1_ONLY_FLAGS = List.of("-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1");

    private FullJitRerun() {
    }

    /** True when this JVM was started by a launcher with the quick compiler only. */
    static boolean quick() {
        return QUICK.equals(System.getProperty(PROPERTY));
    }

    /**
     * When this JVM has the quick compiler only and {@code wanted}: the exit status of this command run
     * again with the full JIT ({@link #rerun()}). Empty otherwise: the caller carries on here.
     */
    static Optional<Integer> ifQuick(boolean wanted) throws IOException {
        return wanted && quick() ? rerun() : Optional.empty();
    }

    /**
     * This JVM's command line ({@code executable}, then {@code arguments} as /proc gives them) with the
     * full JIT: the JVM options before {@code -jar} lose {@link #C1_ONLY_FLAGS} and get the property
     * set to {@link #FULL}, so the child never reruns itself; the jar and the command's own arguments
     * stay as they were. Empty when the JVM was not started with {@code -jar}.
     */
    static Optional<List<String>> fullJitCommand(String executable, List<String> arguments) {
        int jar = arguments.indexOf("-jar");
        if (jar < 0 || jar + 1 >= arguments.size()) {
            return Optional.empty();
        }
        List<String> command = new ArrayList<>();
        command.add(executable);
        for (String option : arguments.subList(0, jar)) {
            if (!C1_ONLY_FLAGS.contains(option) && !option.startsWith("-D" + PROPERTY + "=")) {
                command.add(option);
            }
        }
        command.add("-D" + PROPERTY + "=" + FULL);
        command.addAll(arguments.subList(jar, arguments.size()));
        return Optional.of(command);
    }

    /**
     * Runs this command again with the full JIT and returns its exit status; empty when this JVM's
     * command line cannot be read (then the caller carries on here, only slower).
     */
    static Optional<Integer> rerun() throws IOException {
        ProcessHandle.Info self = ProcessHandle.current().info();
        Optional<List<String>> command = self.command()
                .flatMap(executable -> self.arguments().flatMap(arguments -> fullJitCommand(executable, List.of(arguments))));
        return command.isEmpty() ? Optional.empty() : run(command.get());
    }

    /**
     * Runs {@code command} and returns its exit status; empty when it cannot be started (the caller
     * then carries on in this JVM, only slower, rather than fail a bake over a speed-up). The child
     * shares standard input, output and error; if this JVM is told to stop, it stops the child first
     * and waits for it, so the child's clean-up (staging directories, the output lock) runs as it
     * would have here.
     */
    static Optional<Integer> run(List<String> command) throws IOException {
        Process child;
        try {
            child = new ProcessBuilder(command).inheritIO().start();
        } catch (IOException e) {
            return Optional.empty();
        }
        Thread stopChild = new Thread(() -> {
            child.destroy();
            try {
                child.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "piimage-stop-child");
        Runtime.getRuntime().addShutdownHook(stopChild);
        try {
            int status = child.waitFor();
            Runtime.getRuntime().removeShutdownHook(stopChild);
            return Optional.of(status);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while the bake ran", e);
        }
    }
}
