package io.piimage.cli;

import io.piimage.pipeline.BakeException;
import io.piimage.pipeline.ClusterAccess;
import io.piimage.plan.InvalidPlanException;
import io.piimage.status.ClusterProbe;
import io.piimage.status.ClusterStatus;
import io.piimage.status.ClusterWait;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "wait",
        mixinStandardHelpOptions = true,
        description = {"Waits until the cluster matches its plan, showing what is still missing.",
            "Repeats the checks of 'piimage status' until they all pass or the timeout passes.",
            "Start it when you power the Pis on."},
        footer = {"", "Examples:",
            "  piimage wait examples/makina.yaml                     # up to 30 minutes",
            "  piimage wait plan.yaml --timeout 45m --interval 30s && kubectl --kubeconfig out/makina/admin.conf get nodes",
            "", "Exit codes: 0 the cluster matches the plan, 1 timed out (the last status is printed) or unusable plan/secrets,",
            "2 usage error."})
final class WaitCommand implements Callable<Integer> {

    @Mixin
    ClusterOptions options;

    @Mixin
    ApiOptions api;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30m", converter = DurationConverter.class,
            description = "Give up after this long (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(names = "--interval", paramLabel = "DURATION", defaultValue = "10s", converter = DurationConverter.class,
            description = "Time between probes (default: ${DEFAULT-VALUE}).")
    Duration interval;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException, BakeException, InvalidPlanException, IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ClusterAccess access = options.open();
        ClusterProbe probe = access.probe(api.kubeconfig, api.requestTimeout);
        Clock clock = Clock.systemUTC();
        Instant start = clock.instant();
        String[] last = {""};
        out.printf("waiting up to %s for cluster %s (%d nodes) at %s%n", human(timeout), access.plan().cluster().name(),
                access.plan().nodes().size(), access.plan().endpoint().hostPort());
        out.flush();
        ClusterStatus status = new ClusterWait(probe::probe, clock, d -> Thread.sleep(d.toMillis()))
                .await(timeout, interval, s -> {
                    String line = StatusText.progress(s);
                    if (!line.equals(last[0])) {
                        out.printf("[%s] %s%n", elapsed(Duration.between(start, clock.instant())), line);
                        out.flush();
                        last[0] = line;
                    }
                });
        if (status.ok()) {
            out.printf("cluster %s matches the plan after %s%n", status.cluster(), human(Duration.between(start, clock.instant())));
            return Main.OK;
        }
        out.printf("timed out after %s; the last status:%n", human(timeout));
        StatusText.report(status, out);
        return Main.INVALID_INPUT;
    }

    private static String elapsed(Duration d) {
        long s = d.toSeconds();
        return String.format("%02d:%02d", s / 60, s % 60);
    }

    private static String human(Duration d) {
        long s = d.toSeconds();
        if (s < 60) {
            return d.toMillis() % 1000 == 0 ? s + "s" : d.toMillis() + "ms";
        }
        return s % 60 == 0 ? (s / 60) + "m" : (s / 60) + "m" + (s % 60) + "s";
    }
}
