package io.piimage.pipeline;

import io.piimage.plan.Diagnostic;
import io.piimage.plan.Node;
import java.nio.file.Path;
import java.util.List;

/** What a bake reports as it goes; the CLI decides what to print. */
public sealed interface BakeEvent {

    record PlanLoaded(Path plan, int nodes, List<Diagnostic> warnings) implements BakeEvent {
    }

    record SecretsCreated(Path directory) implements BakeEvent {
    }

    record SecretsReused(Path directory, List<String> permissionProblems) implements BakeEvent {
    }

    record NodeRendered(Node node, int files, long bytes) implements BakeEvent {
    }

    record OutputWritten(Path output) implements BakeEvent {
    }
}
