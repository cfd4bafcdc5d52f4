package io.piimage.status;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Probes again and again until the cluster matches its plan or the time is up. Each probe's result
 * goes to {@code progress}; the last one is returned (check {@link ClusterStatus#ok()}).
 */
public final class ClusterWait {

    /** Sleeps; tests replace it. */
    @FunctionalInterface
    public interface Sleeper {
        void sleep(Duration duration) throws InterruptedException;
    }

    private final Supplier<ClusterStatus> probe;
    private final Clock clock;
    private final Sleeper sleeper;

    public ClusterWait(Supplier<ClusterStatus> probe, Clock clock, Sleeper sleeper) {
        this.probe = Objects.requireNonNull(probe);
        this.clock = Objects.requireNonNull(clock);
        this.sleeper = Objects.requireNonNull(sleeper);
    }

    public ClusterStatus await(Duration timeout, Duration interval, Consumer<ClusterStatus> progress) throws InterruptedException {
        Instant deadline = clock.instant().plus(timeout);
        while (true) {
            ClusterStatus status = probe.get();
            progress.accept(status);
            if (status.ok()) {
                return status;
            }
            Duration left = Duration.between(clock.instant(), deadline);
            if (left.isNegative() || left.isZero()) {
                return status;
            }
            sleeper.sleep(interval.compareTo(left) < 0 ? interval : left);
        }
    }
}
