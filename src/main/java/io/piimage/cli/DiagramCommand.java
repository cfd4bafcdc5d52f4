package io.piimage.cli;

import io.piimage.diagram.TopologyDiagram;
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
        name = "diagram",
        mixinStandardHelpOptions = true,
        description = {"Draws the plan's topology as SVG.",
            "Home LAN and gateway, the VIP, load balancers, control planes and workers, with their addresses."},
        footer = {"", "Examples:",
            "  piimage diagram examples/makina.yaml -o makina.svg",
            "  piimage diagram plan.yaml | rsvg-convert -o plan.png",
            "", "Exit codes: 0 drawn, 1 invalid plan or unwritable file, 2 usage error."})
final class DiagramCommand implements Callable<Integer> {

    @Mixin
    PlanArgument plan;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Where to write the SVG (default: standard output).")
    Path output;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InvalidPlanException, IOException {
        PrintWriter out = spec.commandLine().getOut();
        String svg = TopologyDiagram.svg(plan.load().plan());
        if (output == null) {
            out.print(svg);
            out.flush();
        } else {
            AtomicWrite.writeString(output, svg);
            out.println("wrote " + output);
        }
        return Main.OK;
    }
}
