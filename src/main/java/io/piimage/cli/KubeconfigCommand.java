package io.piimage.cli;

import io.piimage.pipeline.BakeException;
import io.piimage.pipeline.ClusterAccess;
import io.piimage.plan.InvalidPlanException;
import io.piimage.util.AtomicWrite;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine;

@Command(
        name = "kubeconfig",
        mixinStandardHelpOptions = true,
        description = {"Prints or writes the cluster's admin kubeconfig.",
            "kubernetes-admin, server = the VIP, made from the secrets directory: the same file bake",
            "writes as admin.conf."},
        footer = {"", "Examples:",
            "  piimage kubeconfig examples/makina.yaml -o ~/.kube/makina.conf",
            "  KUBECONFIG=<(piimage kubeconfig plan.yaml) kubectl get nodes",
            "", "Exit codes: 0 done, 1 invalid plan, no secrets yet, or unwritable file, 2 usage error."})
final class KubeconfigCommand implements Callable<Integer> {

    @Mixin
    ClusterOptions options;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write the kubeconfig here (mode 0600) instead of printing it.")
    Path output;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws BakeException, InvalidPlanException, IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ClusterAccess access = options.open();
        String text = access.adminKubeconfig();
        if (output == null) {
            out.print(text);
            out.flush();
            return Main.OK;
        }
        try {
            AtomicWrite.writeString(output, text, AtomicWrite.PRIVATE); // it grants cluster-admin
        } catch (IOException | UnsupportedOperationException e) {
            throw new Refusal("cannot write " + output + ": " + e.getMessage(), e);
        }
        out.println("wrote " + output + " (it grants cluster-admin: keep it private)");
        return Main.OK;
    }
}
