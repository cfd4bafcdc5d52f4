package io.piimage.plan;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Collects every problem of one plan so that all of them are reported at once, in file order. */
final class Diagnostics {

    private final String file;
    private final List<Diagnostic> found = new ArrayList<>();

    Diagnostics(String file) {
        this.file = file;
    }

    void error(Position at, String message) {
        found.add(new Diagnostic(Diagnostic.Severity.ERROR, file, at.line(), at.column(), message));
    }

    void warning(Position at, String message) {
        found.add(new Diagnostic(Diagnostic.Severity.WARNING, file, at.line(), at.column(), message));
    }

    boolean hasErrors() {
        return found.stream().anyMatch(Diagnostic::isError);
    }

    /** Sorted by line then column; the sort is stable, so problems at one place keep the order found. */
    List<Diagnostic> inFileOrder() {
        return found.stream()
                .sorted(Comparator.comparingInt(Diagnostic::line).thenComparingInt(Diagnostic::column))
                .toList();
    }

    List<Diagnostic> warnings() {
        return inFileOrder().stream().filter(d -> !d.isError()).toList();
    }
}
