package io.piimage.plan;

/**
 * One problem found in a plan. {@code line}/{@code column} are 1-based; 0 when the problem has no
 * single place (e.g. "no control plane").
 */
public record Diagnostic(Severity severity, String file, int line, int column, String message) {

    public enum Severity {
        ERROR, WARNING;

        @Override
        public String toString() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public boolean isError() {
        return severity == Severity.ERROR;
    }

    /** "plan.yaml:12:5: error: message", the format compilers use, so editors can jump to it. */
    public String format() {
        StringBuilder out = new StringBuilder(file);
        if (line > 0) {
            out.append(':').append(line).append(':').append(column);
        }
        return out.append(": ").append(severity).append(": ").append(message).toString();
    }

    @Override
    public String toString() {
        return format();
    }
}
