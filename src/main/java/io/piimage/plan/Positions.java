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

    /**
     * Where {@code path} was written, else its nearest written ancestor ("nodes[2].model" falls back to
     * "nodes[2]", "cluster.podSubnet" to "cluster"): a finding about a default points at its section.
     */
    Position near(String path) {
        String current = path;
        while (!current.isEmpty()) {
            Position position = byPath.get(current);
            if (position != null) {
                return position;
            }
            int cut = Math.max(current.lastIndexOf('.'), Math.max(current.lastIndexOf('['), current.lastIndexOf('@')));
            current = cut < 0 ? "" : current.substring(0, cut);
        }
        return Position.NONE;
    }
}
