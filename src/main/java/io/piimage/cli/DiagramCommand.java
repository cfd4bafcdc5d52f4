package io.piimage.cli;

import io.piimage.diagram.TopologyDiagram;
import io.piimage.image.ImageProfiles;
import io.piimage.plan.Diagnostic;
import io.piimage.plan.InvalidPlanException;
import io.piimage.plan.LoadedPlan;
import io.piimage.plan.PlanLoader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
        name = "diagram",
        mixinStandardHelpOptions = true,
        description = {"Draws the plan's topology as SVG.",
            "Home LAN and gateway, the VIP, load balancers, control planes and workers, with their addresses."},
        footer = {"", "Examples:",
            "  piimage diagram examples/makina.yaml -o makina.svg",
            "  piimage diagram plan.yaml | rsvg-convert -o plan.png",
            "", "Exit codes: 0 drawn, 1 invalid plan or unwritable file, 2 usage error."})
final class DiagramCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "PLAN", description = "The cluster plan (piimage/v1 YAML).")
    Path plan;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Where to write the SVG (default: standard output).")
    Path output;

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
            LoadedPlan loaded = PlanLoader.load(plan, ImageProfiles.packaged().names());
            loaded.warnings().forEach(w -> err.println(w.format()));
            String svg = TopologyDiagram.svg(loaded.plan());
            if (output == null) {
                out.print(svg);
                out.flush();
            } else {
                Files.writeString(output, svg, StandardCharsets.UTF_8);
                out.println("wrote " + output);
            }
            return Main.OK;
        } catch (InvalidPlanException e) {
            e.diagnostics().forEach(d -> err.println(d.format()));
            err.printf("piimage: %d error(s); nothing was drawn%n", e.diagnostics().stream().filter(Diagnostic::isError).count());
            return Main.INVALID_INPUT;
        } catch (IOException e) {
            err.println("piimage: error: " + e.getMessage());
            return Main.INVALID_INPUT;
        }
    }
}
