package io.piimage.cli;

import io.piimage.plan.PlanSchema;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(
        name = "schema",
        mixinStandardHelpOptions = true,
        description = {"Prints the JSON Schema of the plan format.", "piimage/v1, so editors complete and check plan files."},
        footer = {"", "Examples:",
            "  piimage schema > piimage-plan.schema.json",
            "  # VS Code (YAML extension): first line of plan.yaml",
            "  # yaml-language-server: $schema=./piimage-plan.schema.json",
            "", "Exit codes: 0 printed, 2 usage error."})
final class SchemaCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().getOut().print(PlanSchema.text());
        spec.commandLine().getOut().flush();
        return Main.OK;
    }
}
