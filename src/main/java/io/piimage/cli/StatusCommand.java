package io.piimage.cli;

import io.piimage.pipeline.BakeException;
import io.piimage.pipeline.ClusterAccess;
import io.piimage.plan.Diagnostic;
import io.piimage.plan.InvalidPlanException;
import io.piimage.status.ClusterStatus;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
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

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ClusterAccess access = open(options, err);
        if (access == null) {
            return Main.INVALID_INPUT;
        }
        try {
            ClusterStatus status = access.probe(options.kubeconfig, options.requestTimeout).probe();
            StatusText.report(status, out);
            return status.ok() ? Main.OK : Main.INVALID_INPUT;
        } catch (BakeException e) {
            err.println("piimage: error: " + e.getMessage());
            return Main.INVALID_INPUT;
        }
    }

    /** Loads the plan for status, wait and kubeconfig; null (after printing why) when it cannot be used. */
    static ClusterAccess open(ClusterOptions options, PrintWriter err) {
        if (!Files.isRegularFile(options.plan)) {
            err.println("piimage: error: plan file " + options.plan + " does not exist");
            return null;
        }
        try {
            ClusterAccess access = ClusterAccess.open(options.plan, options.secrets);
            access.warnings().forEach(w -> err.println(w.format()));
            return access;
        } catch (InvalidPlanException e) {
            e.diagnostics().forEach(d -> err.println(d.format()));
            err.printf("piimage: %d error(s) in the plan%n", e.diagnostics().stream().filter(Diagnostic::isError).count());
            return null;
        } catch (IOException e) {
            err.println("piimage: error: cannot read " + options.plan + ": " + e.getMessage());
            return null;
        }
    }
}
