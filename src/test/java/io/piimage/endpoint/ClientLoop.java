package io.piimage.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.testing.ExternalTool.ProcessResult;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A client in a {@link TestLan} host sending one request after another (a new curl, so a new TCP
 * connection, each time) to a URL until closed, counting the answers and recording each failure
 * with the time it began and ended. Failures are placed in time by when the request began: a request
 * cut by a switch may fail at once (a reset) or only when curl gives up after --max-time (its packets
 * lost), seconds later, though the cause was the same moment.
 */
final class ClientLoop implements AutoCloseable {

    record Failure(Instant started, Instant at, String what) {
    }

    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicInteger ok = new AtomicInteger();
    private final List<Failure> failures = Collections.synchronizedList(new ArrayList<>());
    private final Thread thread;

    ClientLoop(TestLan lan, String host, String url) {
        thread = new Thread(() -> {
            while (running.get()) {
                Instant started = Instant.now();
                ProcessResult r = lan.in(host, Duration.ofSeconds(10), "curl", "-sk", "--max-time", "5", url);
                if (r.exitCode() == 0 && r.stdout().equals("ok")) {
                    ok.incrementAndGet();
                } else {
                    failures.add(new Failure(started, Instant.now(), "exit " + r.exitCode() + " " + r.output()));
                }
            }
        }, "client-loop-" + host);
        thread.start();
    }

    int ok() {
        return ok.get();
    }

    List<Failure> failures() {
        synchronized (failures) {
            return List.copyOf(failures);
        }
    }

    /** From the start of the first failed request to the start of the last (zero without failures). */
    static Duration span(List<Failure> failures) {
        return failures.isEmpty() ? Duration.ZERO
                : Duration.between(failures.get(0).started(), failures.get(failures.size() - 1).started());
    }

    /** The failures of requests that began before {@code instant} ({@code before}) or at or after it. */
    static List<Failure> startedBefore(List<Failure> failures, Instant instant, boolean before) {
        return failures.stream().filter(f -> f.started().isBefore(instant) == before).toList();
    }

    /**
     * A server killed outright (SIGKILL) loses the request it was in the middle of: HAProxy retries a
     * refused connection elsewhere, but cannot replay one whose TLS handshake had begun (curl: exit 35).
     * The client sends one request at a time, so at most that one may fail: one begun before the kill
     * (or right at it).
     */
    static void assertAtMostTheRequestInFlightFailed(List<Failure> failures, Instant killed) {
        assertThat(failures).as("requests failed while a server was killed at " + killed).hasSizeLessThanOrEqualTo(1)
                .allMatch(f -> f.started().isBefore(killed.plusSeconds(1)));
    }

    String summary() {
        return "%d requests, %d failed%s".formatted(ok() + failures().size(), failures().size(),
                failures().isEmpty() ? "" : " within " + span(failures()).toMillis() + " ms");
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        thread.join(15_000);
    }
}
