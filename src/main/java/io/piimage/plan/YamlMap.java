package io.piimage.plan;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/**
 * One mapping of the plan, read against its schema: duplicate and unknown keys are reported when it is
 * made; the typed getters report wrong types and bad values and return null for them, so reading goes
 * on and every problem is found in one pass. Values are read from the scalar's TEXT, never from
 * YAML's resolved type: {@code 1.30} stays "1.30" and {@code 010} stays "010".
 */
final class YamlMap {

    /** A single value of a list, with where it was written. */
    record Item(String text, Node node, String where, String path) {
        Position position() {
            return Position.of(node);
        }
    }

    private final MappingNode mapping;
    private final PlanFormat.Section format;
    private final String path;
    private final String label;
    private final Diagnostics diagnostics;
    private final Positions positions;
    private final Map<String, NodeTuple> entries = new LinkedHashMap<>();

    /**
     * @param path  where the mapping is, for {@link Positions}: "cluster", "nodes[2]", "" for the root
     * @param label how messages name it: "cluster", "node 'master1'", "" for the root
     * @param format the section of {@link PlanFormat} this mapping is (its keys, which are required); null
     *              for free-form mappings (labels, registry mirrors)
     * @param homes for keys written in the wrong section: key → the section it belongs in
     */
    YamlMap(MappingNode mapping, String path, String label, PlanFormat.Section format, Map<String, String> homes,
            Diagnostics diagnostics, Positions positions) {
        this.mapping = mapping;
        this.format = format;
        List<String> knownKeys = format == null ? null : format.names();
        this.path = path;
        this.label = label;
        this.diagnostics = diagnostics;
        this.positions = positions;
        positions.put(path, Position.of(mapping));
        for (NodeTuple tuple : mapping.getValue()) {
            if (!(tuple.getKeyNode() instanceof ScalarNode keyNode)) {
                diagnostics.error(Position.of(tuple.getKeyNode()), "a key must be a plain word, not " + describe(tuple.getKeyNode()));
                continue;
            }
            String key = keyNode.getValue();
            NodeTuple first = entries.get(key);
            if (first != null) {
                diagnostics.error(Position.of(keyNode), "duplicate key '" + key + "' " + in()
                        + " (first at line " + Position.of(first.getKeyNode()).line() + ")");
            } else if (knownKeys != null && !knownKeys.contains(key)) {
                String hint = Syntax.didYouMean(key, knownKeys);
                String home = homes.get(key);
                if (hint.isEmpty() && home != null && !home.equals(label)) {
                    hint = "; '" + key + "' belongs in " + home;
                }
                diagnostics.error(Position.of(keyNode), "unknown key '" + key + "' " + in() + hint);
            } else {
                entries.put(key, tuple);
                positions.put(path(key), Position.of(tuple.getValueNode()));
                positions.put(path(key) + "@key", Position.of(keyNode));
            }
        }
    }

    /** The keys written, in file order (for free-form mappings). */
    List<String> keys() {
        return List.copyOf(entries.keySet());
    }

    /** The text of a scalar value, before the mapping is checked (a node's name names it in messages). */
    static String peekText(MappingNode mapping, String key) {
        for (NodeTuple tuple : mapping.getValue()) {
            if (tuple.getKeyNode() instanceof ScalarNode k && k.getValue().equals(key)
                    && tuple.getValueNode() instanceof ScalarNode v && !isNull(v)) {
                return v.getValue();
            }
        }
        return null;
    }

    static boolean isNull(Node node) {
        return node instanceof ScalarNode scalar && scalar.isPlain()
                && Set.of("", "~", "null", "Null", "NULL").contains(scalar.getValue());
    }

    static String describe(Node node) {
        if (node instanceof MappingNode) {
            return "a mapping";
        }
        if (node instanceof SequenceNode) {
            return "a list";
        }
        return "a single value";
    }

    String label() {
        return label;
    }

    Position position() {
        return Position.of(mapping);
    }

    /** "in cluster", "in node 'master1'", or "at the top level". */
    String in() {
        return label.isEmpty() ? "at the top level" : "in " + label;
    }

    String path(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    /** How messages name a key of this mapping: "cluster.podSubnet", "node 'master1' address". */
    String where(String key) {
        if (label.isEmpty()) {
            return key;
        }
        return label.contains(" ") ? label + " " + key : label + "." + key;
    }

    Position keyPosition(String key) {
        NodeTuple tuple = entries.get(key);
        return tuple == null ? position() : Position.of(tuple.getKeyNode());
    }

    Position valuePosition(String key) {
        NodeTuple tuple = entries.get(key);
        return tuple == null ? position() : Position.of(tuple.getValueNode());
    }

    /** True when the key is written, even with an empty value. */
    boolean written(String key) {
        return entries.containsKey(key);
    }

    /** The value, or null when the key is absent or its value is empty (~, null, nothing). */
    Node value(String key) {
        NodeTuple tuple = entries.get(key);
        return tuple == null || isNull(tuple.getValueNode()) ? null : tuple.getValueNode();
    }

    void error(String key, String message) {
        diagnostics.error(valuePosition(key), where(key) + ": " + message);
    }

    void missing(String key) {
        if (written(key)) {
            diagnostics.error(keyPosition(key), where(key) + ": needs a value");
        } else {
            diagnostics.error(position(), "missing required key '" + key + "' " + in());
        }
    }

    /** Whether the format requires {@code key}; a free-form mapping requires nothing. */
    private boolean required(String key) {
        return format != null && format.required(key);
    }

    String text(String key) {
        return text(key, required(key));
    }

    Ipv4 ipv4(String key) {
        return ipv4(key, required(key));
    }

    Cidr cidr(String key) {
        return cidr(key, required(key));
    }

    <E extends Enum<E>> E choice(String key, E[] values) {
        return choice(key, values, required(key));
    }

    MappingNode mapping(String key) {
        return mapping(key, required(key));
    }

    SequenceNode sequence(String key) {
        return sequence(key, required(key));
    }

    List<Item> items(String key) {
        return items(key, required(key));
    }

    String text(String key, boolean required) {
        Node node = value(key);
        if (node == null) {
            if (required) {
                missing(key);
            }
            return null;
        }
        if (!(node instanceof ScalarNode scalar)) {
            error(key, "must be a single value, not " + describe(node));
            return null;
        }
        return scalar.getValue();
    }

    Integer integer(String key, int min, int max) {
        String text = text(key, false);
        if (text == null) {
            return null;
        }
        if (text.isEmpty() || text.length() > 9 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            error(key, "must be a whole number from " + min + " to " + max + ", not '" + text + "'");
            return null;
        }
        int number = Integer.parseInt(text);
        if (number < min || number > max) {
            error(key, number + " is outside " + min + "-" + max);
            return null;
        }
        return number;
    }

    Boolean bool(String key) {
        String text = text(key, false);
        if (text == null) {
            return null;
        }
        // YAML 1.2's core schema: yes/no/on/off are strings there, so they are refused, not guessed.
        switch (text) {
            case "true", "True", "TRUE":
                return true;
            case "false", "False", "FALSE":
                return false;
            default:
                error(key, "must be true or false, not '" + text + "'");
                return null;
        }
    }

    Ipv4 ipv4(String key, boolean required) {
        String text = text(key, required);
        if (text == null) {
            return null;
        }
        try {
            return Ipv4.parse(text);
        } catch (IllegalArgumentException e) {
            error(key, e.getMessage());
            return null;
        }
    }

    Cidr cidr(String key, boolean required) {
        String text = text(key, required);
        if (text == null) {
            return null;
        }
        try {
            return Cidr.parse(text);
        } catch (IllegalArgumentException e) {
            error(key, e.getMessage());
            return null;
        }
    }

    /** One of an enum's plan spellings (its toString). */
    <E extends Enum<E>> E choice(String key, E[] values, boolean required) {
        String text = text(key, required);
        if (text == null) {
            return null;
        }
        List<String> spellings = new ArrayList<>();
        for (E value : values) {
            if (value.toString().equals(text)) {
                return value;
            }
            spellings.add(value.toString());
        }
        error(key, "'" + text + "' is not one of " + String.join(", ", spellings) + Syntax.didYouMean(text, spellings));
        return null;
    }

    MappingNode mapping(String key, boolean required) {
        Node node = value(key);
        if (node == null) {
            if (required) {
                missing(key);
            }
            return null;
        }
        if (!(node instanceof MappingNode map)) {
            error(key, "must be a mapping (key: value lines), not " + describe(node));
            return null;
        }
        return map;
    }

    SequenceNode sequence(String key, boolean required) {
        Node node = value(key);
        if (node == null) {
            if (required) {
                missing(key);
            }
            return null;
        }
        if (!(node instanceof SequenceNode list)) {
            error(key, "must be a list ('- item' lines or [a, b]), not " + describe(node));
            return null;
        }
        return list;
    }

    /** The single values of a list; an item that is not one is reported and left out. */
    List<Item> items(String key, boolean required) {
        SequenceNode list = sequence(key, required);
        if (list == null) {
            return null;
        }
        List<Item> items = new ArrayList<>();
        int index = 0;
        for (Node node : list.getValue()) {
            String itemWhere = where(key) + " #" + (index + 1);
            String itemPath = path(key) + "[" + index + "]";
            index++;
            positions.put(itemPath, Position.of(node));
            if (node instanceof ScalarNode scalar && !isNull(scalar)) {
                items.add(new Item(scalar.getValue(), node, itemWhere, itemPath));
            } else {
                diagnostics.error(Position.of(node), itemWhere + ": must be a single value, not "
                        + (isNull(node) ? "empty" : describe(node)));
            }
        }
        return items;
    }
}
