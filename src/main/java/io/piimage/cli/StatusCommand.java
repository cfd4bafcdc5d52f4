package io.piimage.cli;

import io.piimage.pipeline.BakeException;
import io.piimage.pipeline.ClusterAccess;
import io.piimage.plan.InvalidPlanException;
import io.piimage.status.ClusterStatus;
import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(
        name = "status",
        mixinStandardHelpOptions = true,
        description = {"Compares the running cluster with its plan.",
            "From this machine, no ssh: the VIP answers,",
            "/readyz through the VIP and on each apiserver, every planned node registered and Ready, every",
            "control plane a voting etcd member (no learner left), and certificate expiry dates. Uses the",
            "baked admin.conf and the etcd client certificate of the secrets directory."},
        footer = {"", "Examples:",
            "  piimage status examples/makina.yaml",
            "  piimage status plan.yaml --kubeconfig ~/.kube/makina.conf --request-timeout 5s",
            "", "Exit codes: 0 the cluster matches the plan, 1 it does not (or the plan/secrets are unusable), 2 usage error."})
final class StatusCommand implements Callable<Integer> {

    @Mixin
    ClusterOptions options;

    @Mixin
    ApiOptions api;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws BakeException, InvalidPlanException, IOException {
        ClusterAccess access = options.open();
        ClusterStatus status = access.probe(api.kubeconfig, api.requestTimeout).probe();
        StatusText.report(status, spec.commandLine().getOut());
        return status.ok() ? Main.OK : Main.INVALID_INPUT;
    }
}
