package io.piimage.cli;

import io.piimage.pipeline.BakeException;
import io.piimage.pipeline.ClusterAccess;
import io.piimage.pipeline.EtcdSnapshot;
import io.piimage.plan.InvalidPlanException;
import io.piimage.plan.Node;
import io.piimage.status.TlsIdentity;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Mixin;

@Command(
        name = "snapshot",
        mixinStandardHelpOptions = true,
        description = {"Saves a snapshot of the cluster's etcd to a file, from this machine.",
            "Streams etcd's /v3/maintenance/snapshot from the first control plane that answers (its etcd",
            "client port, 2379) with the etcd client certificate of the secrets directory; no etcdctl",
            "needed. The file is checked (bbolt database, SHA-256 trailer) before it is renamed into place.",
            "Restore it with: piimage bake PLAN --restore-from FILE."},
        footer = {"", "Examples:",
            "  piimage snapshot examples/makina.yaml -o makina-$(date +%%F).db",
            "", "Exit codes: 0 saved, 1 no control plane sent a complete snapshot (or plan/secrets unusable), 2 usage error."})
final class SnapshotCommand implements Callable<Integer> {

    @Mixin
    ClusterOptions options;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", required = true, description = "Where to write the snapshot (mode 0600).")
    Path output;

    @Option(names = "--endpoint", paramLabel = "URL",
            description = "An etcd client URL to ask instead of the plan's control planes (repeatable), e.g. through a tunnel.")
    List<URI> endpoints;

    @Option(names = "--request-timeout", paramLabel = "DURATION", defaultValue = "5s", converter = DurationConverter.class,
            description = "Timeout of each connection (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws BakeException, InvalidPlanException, IOException {
        java.util.Optional<Integer> rerun = FullJitRerun.ifQuick(true); // it hashes the whole snapshot: C2's SHA-256
        if (rerun.isPresent()) {
            return rerun.get();
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ClusterAccess access = options.open();
        TlsIdentity identity = access.etcdIdentity();
        if (identity == null) {
            throw new Refusal("no etcd client certificate in " + access.secretsDir() + " (etcd/ca.crt, etcd-client.crt, "
                    + "etcd-client.key): bake the plan first, or pass --secrets DIR");
        }
        List<URI> urls = endpoints != null && !endpoints.isEmpty() ? endpoints
                : access.plan().controlPlanes().stream().map(Node::address).map(a -> URI.create("https://" + a + ":2379")).toList();
        try {
            EtcdSnapshot.Taken taken = EtcdSnapshot.take(urls, identity, output, timeout,
                    failure -> err.println("piimage: warning: " + failure));
            out.printf("wrote %s: %d bytes from %s, SHA-256 verified%n", output, taken.bytes(), taken.endpoint());
        } catch (IOException e) {
            throw new Refusal(e.getMessage() + "; nothing was written to " + output, e);
        }
        out.flush();
        return Main.OK;
    }
}
