package io.piimage.cli;

import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The options status, wait and kubeconfig share: which plan, which secrets, which kubeconfig. */
final class ClusterOptions {

    @Parameters(index = "0", paramLabel = "PLAN", description = "The cluster plan (piimage/v1 YAML) that was baked.")
    Path plan;

    @Option(names = "--secrets", paramLabel = "DIR",
            description = "The secrets directory (default: <plan name>.secrets beside the plan).")
    Path secrets;

    @Option(names = "--kubeconfig", paramLabel = "FILE",
            description = "The admin kubeconfig (default: out/<cluster>/admin.conf if there, else made from the secrets).")
    Path kubeconfig;

    @Option(names = "--request-timeout", paramLabel = "DURATION", defaultValue = "3s", converter = DurationConverter.class,
            description = "Timeout of each connection and request (default: ${DEFAULT-VALUE}).")
    Duration requestTimeout;
}
