package io.piimage.plan;

import java.util.List;

/** The plan has at least one error; {@link #diagnostics()} holds every problem found, warnings too. */
public final class InvalidPlanException extends Exception {

    private final transient List<Diagnostic> diagnostics;

    public InvalidPlanException(List<Diagnostic> diagnostics) {
        super(diagnostics.stream().filter(Diagnostic::isError).count() + " error(s) in plan");
        this.diagnostics = List.copyOf(diagnostics);
    }

    public List<Diagnostic> diagnostics() {
        return diagnostics;
    }
}
