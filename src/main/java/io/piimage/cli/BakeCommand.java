package io.piimage.cli;

import io.piimage.pipeline.Bake;
import io.piimage.pipeline.BakeEvent;
import io.piimage.pipeline.BakeException;
import io.piimage.pipeline.ImagerIntegration;
import io.piimage.plan.Diagnostic;
import io.piimage.plan.InvalidPlanException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
        name = "bake",
        mixinStandardHelpOptions = true,
        description = {
            "Bakes the plan into one set of cloud-init seed files per node (user-data, meta-data,",
            "network-config: copy them onto the card's boot partition) and the operator's admin.conf.",
            "The cluster's certificates and keys are created on the first bake and reused afterwards."},
        footer = {"", "Examples:",
            "  piimage bake examples/makina.yaml                 # -> out/makina/",
            "  piimage bake plan.yaml -o cards.tar.gz           # one archive instead of a directory",
            "  piimage bake plan.yaml --secrets /safe/place/makina.secrets",
            "", "Exit codes: 0 baked, 1 invalid plan or failed bake (nothing written), 2 usage error."})
final class BakeCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "PLAN", description = "The cluster plan (piimage/v1 YAML).")
    Path plan;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR|FILE",
            description = "Where to write: a directory (default ./out/<cluster name>), or a .tar.gz/.tgz/.zip file.")
    Path output;

    @Option(names = "--secrets", paramLabel = "DIR",
            description = "The secrets directory (default: <plan name>.secrets beside the plan). Back it up.")
    Path secrets;

    @Option(names = "--templates", paramLabel = "DIR",
            description = "A directory whose cloud-init/ and overlays/ templates override the packaged ones.")
    Path templates;

    @Option(names = {"-q", "--quiet"}, description = "Print only warnings and errors.")
    boolean quiet;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!Files.isRegularFile(plan)) {
            err.println("piimage: error: plan file " + plan + " does not exist");
            return Main.INVALID_INPUT;
        }
        try {
            Bake.Result result = Bake.builder(plan)
                    .output(output)
                    .secretsDir(secrets)
                    .templatesDir(templates)
                    .events(event -> report(event, out, err))
                    .build()
                    .run();
            if (!quiet) {
                out.printf("baked %d node(s) of cluster %s into %s%n", result.cards().size(),
                        result.plan().cluster().name(), result.output());
                out.printf("next: copy each node's user-data, meta-data and network-config onto its card's boot partition;%n"
                        + "      then: kubectl --kubeconfig %s get nodes%n", result.output().resolve("admin.conf"));
                if (Files.isDirectory(result.output())) {
                    printImagerLines(result, out);
                }
            }
            return Main.OK;
        } catch (InvalidPlanException e) {
            e.diagnostics().forEach(d -> err.println(d.format()));
            long errors = e.diagnostics().stream().filter(Diagnostic::isError).count();
            err.printf("piimage: %d error(s); nothing was written%n", errors);
            return Main.INVALID_INPUT;
        } catch (BakeException e) {
            err.println("piimage: error: " + e.getMessage());
            err.println("piimage: nothing was written");
            return Main.INVALID_INPUT;
        } catch (NoSuchFileException e) {
            err.println("piimage: error: no such file: " + e.getFile());
            return Main.INVALID_INPUT;
        } catch (IOException e) {
            err.println("piimage: error: " + e.getMessage());
            err.println("piimage: the output was not changed");
            return Main.INVALID_INPUT;
        }
    }

    /** Without a base image, each card is a base image plus its seed: Raspberry Pi Imager writes both. */
    private static void printImagerLines(Bake.Result result, PrintWriter out) {
        out.println("or flash and seed each card with Raspberry Pi Imager 2.x (IMAGE: the node's base image, .img/.img.xz;"
                + " DEVICE: the card, e.g. /dev/sdX):");
        for (ImagerIntegration.CliLine line : ImagerIntegration.cliLines(result.plan(), result.output())) {
            out.printf("  %-16s %s   # %s%n", line.node().name() + ":", line.command(), line.profile());
        }
    }

    private void report(BakeEvent event, PrintWriter out, PrintWriter err) {
        if (event instanceof BakeEvent.PlanLoaded loaded) {
            loaded.warnings().forEach(w -> err.println(w.format()));
        } else if (event instanceof BakeEvent.SecretsCreated created && !quiet) {
            out.println("created the cluster's secrets in " + created.directory()
                    + " (back this directory up: every later bake and every node needs it)");
        } else if (event instanceof BakeEvent.SecretsReused reused) {
            reused.permissionProblems().forEach(problem -> err.println("piimage: warning: " + problem));
        } else if (event instanceof BakeEvent.NodeRendered rendered && !quiet) {
            out.printf("  %-16s %-14s %d files%n", rendered.node().name(), rendered.node().role(), rendered.files());
        }
    }
}
