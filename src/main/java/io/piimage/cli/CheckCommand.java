package io.piimage.cli;

import io.piimage.json.Json;
import io.piimage.pipeline.PlanCheck;
import io.piimage.plan.Diagnostic;
import io.piimage.plan.PlanLoader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Mixin;

@Command(
        name = "check",
        mixinStandardHelpOptions = true,
        description = {"Checks a plan: every error and warning at once, nothing written.",
            "The very rules bake enforces, mistakes that are legal but break a real cluster included",
            "(a node on the gateway's address, VRRP router id 51, no workers while the control planes are",
            "tainted, subnets over the home LAN, a key algorithm the Kubernetes version cannot use):",
            "an error fails check and stops bake; a warning does neither."},
        footer = {"", "Examples:",
            "  piimage check plan.yaml",
            "  piimage check plan.yaml --format json | jq '.diagnostics[] | select(.severity == \"error\")'",
            "", "Exit codes: 0 no error (warnings allowed), 1 errors or unreadable plan, 2 usage error."})
final class CheckCommand implements Callable<Integer> {

    enum Format { text, json }

    @Mixin
    PlanArgument planArgument;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "text",
            description = "text (file:line:column: severity: message) or json (default: ${DEFAULT-VALUE}).")
    Format format;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path plan = planArgument.file();
        String unreadable = PlanLoader.unreadableReason(plan);
        if (unreadable != null) {
            return refuse(plan, "plan file " + plan + " " + unreadable, out, err);
        }
        PlanCheck.Result result;
        try {
            result = PlanCheck.run(plan);
        } catch (IOException e) {
            return refuse(plan, "cannot read " + plan + ": " + e.getMessage(), out, err);
        }
        if (format == Format.json) {
            out.println(Json.write(json(plan.toString(), result.ok(), result.diagnostics())));
        } else {
            // The findings are this command's output: standard output, so they pipe into grep or an editor.
            result.diagnostics().forEach(d -> out.println(d.format()));
            String summary = String.format("%s: %d error(s), %d warning(s)", plan, result.errors(), result.warnings());
            out.println(result.ok() && result.plan() != null
                    ? summary + "; " + result.plan().nodes().size() + " nodes, ready to bake" : summary);
        }
        return result.ok() ? Main.OK : Main.INVALID_INPUT;
    }

    /** A plan that cannot be read at all: one message, and with --format json still a JSON document. */
    private int refuse(Path plan, String message, PrintWriter out, PrintWriter err) {
        if (format == Format.json) {
            out.println(Json.write(json(plan.toString(), false,
                    List.of(new Diagnostic(Diagnostic.Severity.ERROR, plan.toString(), 0, 0, message)))));
        } else {
            err.println("piimage: error: " + message);
        }
        return Main.INVALID_INPUT;
    }

    private static Map<String, Object> json(String file, boolean ok, List<Diagnostic> diagnostics) {
        List<Object> list = new ArrayList<>();
        for (Diagnostic d : diagnostics) {
            Map<String, Object> item = new LinkedHashMap<>();
            item.put("severity", d.severity().toString());
            item.put("file", d.file());
            item.put("line", d.line());
            item.put("column", d.column());
            item.put("message", d.message());
            list.add(item);
        }
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("file", file);
        root.put("ok", ok);
        root.put("errors", diagnostics.stream().filter(Diagnostic::isError).count());
        root.put("warnings", diagnostics.stream().filter(d -> !d.isError()).count());
        root.put("diagnostics", list);
        return root;
    }
}
