package io.piimage.plan;

import java.util.HashMap;
import java.util.Map;

/**
 * Where each value of the plan was written, by path ("endpoint.port", "nodes[2].address", and
 * "nodes[2].labels@key" for the key itself), so checks across sections can point at the exact place.
 * A path that is absent was not written: its value is a default.
 */
final class Positions {

    private final Map<String, Position> byPath = new HashMap<>();

    void put(String path, Position position) {
        byPath.putIfAbsent(path, position);
    }

    boolean has(String path) {
        return byPath.containsKey(path);
    }

    /** The first of the paths that was written, else {@link Position#NONE}. */
    Position at(String... paths) {
        for (String path : paths) {
            Position position = byPath.get(path);
            if (position != null) {
                return position;
            }
        }
        return Position.NONE;
    }
}
