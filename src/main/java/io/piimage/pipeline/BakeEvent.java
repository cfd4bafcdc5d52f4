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

    /** Temporary files of killed bakes beside the output: removed (their writer is gone) or unknown (kept). */
    record LeftoversFound(List<Path> removed, List<Path> unknown) implements BakeEvent {
    }

    /** An existing secrets directory was brought up to date: one line per change (renewals, new host keys). */
    record SecretsUpdated(Path directory, List<String> changes) implements BakeEvent {
    }

    /** A CA of the secrets directory ends within 90 days: one line each (bake cannot renew a CA). */
    record SecretsExpiring(Path directory, List<String> warnings) implements BakeEvent {
    }

    record NodeRendered(Node node, int files, long bytes) implements BakeEvent {
    }

    record OutputWritten(Path output) implements BakeEvent {
    }

    /** A compressed base image was decompressed (once per bake) to {@code temp}. */
    record BaseImageDecompressed(Path source, Path temp, long bytes, long millis) implements BakeEvent {
    }

    record BaseImageRecognised(Path source, String profile, String how) implements BakeEvent {
    }

    record ImageStarted(Node node) implements BakeEvent {
    }

    /**
     * Bytes copied so far for all node images together, out of {@code total}; the images are made a few
     * at a time, so this counts them as one job.
     */
    record ImageProgress(long done, long total) implements BakeEvent {
    }

    /** A node image made in staging; {@code bytes} is the raw image size. */
    record ImageWritten(Node node, Path file, long bytes, long millis) implements BakeEvent {
    }

    record ImagesPublished(Path directory, int images, Path manifest) implements BakeEvent {
    }
}
