package io.piimage.plan;

import org.snakeyaml.engine.v2.nodes.Node;

/** A 1-based line and column in the plan file; {@link #NONE} (0:0) when a problem has no single place. */
record Position(int line, int column) {

    static final Position NONE = new Position(0, 0);

    /** snakeyaml marks are 0-based; editors and compilers count from 1. */
    static Position of(Node node) {
        return node.getStartMark().map(m -> new Position(m.getLine() + 1, m.getColumn() + 1)).orElse(NONE);
    }
}
