package io.piimage.cli;

import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;

/** How status, wait and kubeconfig reach the apiservers: which kubeconfig, how long to wait for an answer. */
final class ApiOptions {

    @Option(names = "--kubeconfig", paramLabel = "FILE",
            description = "The admin kubeconfig (default: out/<cluster>/admin.conf if there, else made from the secrets).")
    Path kubeconfig;

    @Option(names = "--request-timeout", paramLabel = "DURATION", defaultValue = "3s", converter = DurationConverter.class,
            description = "Timeout of each connection and request (default: ${DEFAULT-VALUE}).")
    Duration requestTimeout;
}
