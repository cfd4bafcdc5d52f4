package io.piimage.plan;

import java.util.List;

/** A plan that passed validation, with the warnings found on the way (never errors). */
public record LoadedPlan(Plan plan, List<Diagnostic> warnings) {

    public LoadedPlan {
        warnings = List.copyOf(warnings);
    }
}
