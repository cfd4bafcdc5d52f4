package io.piimage.plan;

import io.piimage.plan.PlanReader.Draft;
import io.piimage.plan.PlanReader.NodeDraft;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.zip.CRC32;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.api.lowlevel.Parse;
import org.snakeyaml.engine.v2.events.Event;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/**
 * Loads a {@code piimage/v1} cluster plan: parses the YAML keeping every value's line and column,
 * checks it against {@link PlanFormat} and the {@link PlanRule}s (docs/plan-format.md), fills the defaults. Every problem is reported at once; a plan with
 * an error yields no {@link Plan}.
 */
public final class PlanLoader {

    /** keepalived's tutorial default: a router id every copied config uses, so it clashes on a shared LAN. */
    static final int TUTORIAL_ROUTER_ID = 51;

    private PlanLoader() {
    }

    /**
     * The largest plan read, in bytes. A plan of 100 nodes is about 10 KB, so 1 MiB leaves room for any
     * real cluster while keeping a wrong file (an image, a log) from being parsed at length.
     */
    public static final int MAX_PLAN_BYTES = 1 << 20;

    /**
     * The deepest nesting of lists and mappings accepted. A plan needs 5 (nodes, a node, its taints, a
     * taint); YAML's composer recurses per level, so a deeper document is refused before it is composed.
     */
    static final int MAX_DEPTH = 32;

    /** Loads {@code file}; diagnostics name it as given ({@code file.toString()}). */
    public static LoadedPlan load(Path file, Set<String> imageProfiles) throws InvalidPlanException, IOException {
        String name = file.toString();
        String unreadable = unreadableReason(file);
        if (unreadable != null) {
            throw refusal(name, Position.NONE, "plan file " + name + " " + unreadable);
        }
        long size = Files.size(file);
        if (size > MAX_PLAN_BYTES) {
            throw refusal(name, Position.NONE, tooLarge(size + " bytes"));
        }
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_PLAN_BYTES + 1); // the file may grow after the size was read
        }
        if (bytes.length > MAX_PLAN_BYTES) {
            throw refusal(name, Position.NONE, tooLarge("more than " + MAX_PLAN_BYTES + " bytes"));
        }
        return parse(name, decode(name, bytes), file, imageProfiles);
    }

    /**
     * Why {@code file} cannot be read as a plan, to follow "plan file X " ("does not exist", "is a
     * directory, not a plan file"); null when it is a regular file.
     */
    public static String unreadableReason(Path file) {
        if (Files.isDirectory(file)) {
            return "is a directory, not a plan file";
        }
        if (!Files.exists(file)) {
            return "does not exist";
        }
        if (!Files.isRegularFile(file)) {
            return "is not a regular file";
        }
        return null;
    }

    private static String tooLarge(String size) {
        return "the plan is " + size + "; piimage reads plans of up to 1 MiB (" + MAX_PLAN_BYTES
                + " bytes; a plan of 100 nodes is about 10 KB): is this the plan file?";
    }

    private static InvalidPlanException refusal(String file, Position at, String message) {
        Diagnostics diagnostics = new Diagnostics(file);
        diagnostics.error(at, message);
        return new InvalidPlanException(diagnostics.inFileOrder());
    }

    /** Strict UTF-8 (YAML's encoding); a byte that is not UTF-8 is reported at its line and column. */
    static String decode(String file, byte[] bytes) throws InvalidPlanException {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = decoder.decode(in, out, true);
        if (!result.isError()) {
            result = decoder.flush(out);
        }
        if (result.isError()) {
            int offset = in.position();
            int lineStart = offset;
            while (lineStart > 0 && bytes[lineStart - 1] != '\n') {
                lineStart--;
            }
            int line = 1;
            for (int i = 0; i < lineStart; i++) {
                if (bytes[i] == '\n') {
                    line++;
                }
            }
            // The bytes before the bad one on its line decoded cleanly: count their characters.
            String before = new String(bytes, lineStart, offset - lineStart, StandardCharsets.UTF_8);
            int column = before.codePointCount(0, before.length()) + 1;
            throw refusal(file, new Position(line, column), String.format("not UTF-8: byte 0x%02X cannot be read as"
                    + " UTF-8 here; a plan is UTF-8 text (convert it, e.g. iconv -f latin1 -t utf-8)", bytes[offset] & 0xff));
        }
        out.flip();
        return out.toString();
    }

    /**
     * Parses and validates plan text.
     *
     * @param displayName   how diagnostics name the file
     * @param source        recorded as {@link Plan#source()} (secrets and outputs live next to it)
     * @param imageProfiles the base-image profiles {@code os.image} and {@code nodes[].image} may name
     * @throws InvalidPlanException with every error and warning, in file order, when there is an error
     */
    public static LoadedPlan parse(String displayName, String yaml, Path source, Set<String> imageProfiles)
            throws InvalidPlanException {
        Diagnostics diagnostics = new Diagnostics(displayName);
        if (yaml.length() > MAX_PLAN_BYTES) {
            diagnostics.error(Position.NONE, tooLarge(yaml.length() + " characters"));
            throw new InvalidPlanException(diagnostics.inFileOrder());
        }
        Optional<Node> root = tooDeep(displayName, yaml, diagnostics) ? Optional.empty() : compose(displayName, yaml, diagnostics);
        if (root.isEmpty()) {
            if (!diagnostics.hasErrors()) {
                diagnostics.error(Position.NONE, "the plan is empty");
            }
            throw new InvalidPlanException(diagnostics.inFileOrder());
        }
        if (!rejectAnchors(root.get(), diagnostics)) {
            throw new InvalidPlanException(diagnostics.inFileOrder());
        }
        Positions positions = new Positions();
        Draft draft = new PlanReader(diagnostics, positions, imageProfiles).read(root.get());
        new PlanRules(draft, diagnostics, positions).check();
        if (diagnostics.hasErrors()) {
            throw new InvalidPlanException(diagnostics.inFileOrder());
        }
        Plan plan = build(draft, source);
        // The rules that need the whole plan (derived router id, defaults filled): part of the same rule set,
        // so an error here stops bake exactly as it fails check.
        PlanLint.lint(plan, diagnostics, positions);
        if (diagnostics.hasErrors()) {
            throw new InvalidPlanException(diagnostics.inFileOrder());
        }
        return new LoadedPlan(plan, diagnostics.warnings());
    }

    private static LoadSettings settings(String displayName, String yaml) {
        return LoadSettings.builder()
                .setLabel(displayName)
                // The reader refills its window by copying what is left of the current token, so a long line
                // cost time quadratic in its length; one window for the whole (bounded) plan reads it once.
                .setBufferSize(yaml.length() + 1)
                .setMaxAliasesForCollections(10) // aliases are refused anyway; this bounds what gets that far
                .setCodePointLimit(MAX_PLAN_BYTES + 1) // never reached: longer plans are refused before
                .build();
    }

    /**
     * Walks the YAML events (the parser keeps its own stack, so any depth is safe here) and reports the
     * first list or mapping nested deeper than {@link #MAX_DEPTH}; YAML syntax errors are left to
     * {@link #compose}, which reports them. True when the plan is too deep.
     */
    private static boolean tooDeep(String displayName, String yaml, Diagnostics diagnostics) {
        int depth = 0;
        try {
            for (Event event : new Parse(settings(displayName, yaml)).parseString(yaml)) {
                Event.ID id = event.getEventId();
                if (id == Event.ID.SequenceStart || id == Event.ID.MappingStart) {
                    if (++depth > MAX_DEPTH) {
                        Position at = event.getStartMark()
                                .map(m -> new Position(m.getLine() + 1, m.getColumn() + 1)).orElse(Position.NONE);
                        diagnostics.error(at, "lists and mappings nest deeper than " + MAX_DEPTH
                                + " levels here; a plan needs at most 5 (nodes, a node, its taints, a taint)");
                        return true;
                    }
                } else if (id == Event.ID.SequenceEnd || id == Event.ID.MappingEnd) {
                    depth--;
                }
            }
        } catch (YamlEngineException e) {
            return false; // a syntax error: compose reports it with its place
        }
        return false;
    }

    private static Optional<Node> compose(String displayName, String yaml, Diagnostics diagnostics) {
        try {
            return new Compose(settings(displayName, yaml)).composeString(yaml);
        } catch (MarkedYamlEngineException e) {
            Mark mark = e.getProblemMark().or(e::getContextMark).orElse(null);
            Position at = mark == null ? Position.NONE : new Position(mark.getLine() + 1, mark.getColumn() + 1);
            // snakeyaml splits its sentences: "expected a single document in the stream" + "but found another document".
            String context = e.getContext() == null || e.getContext().isBlank() ? "" : e.getContext() + ", ";
            diagnostics.error(at, "YAML syntax error: " + context + e.getProblem());
            return Optional.empty();
        } catch (YamlEngineException e) {
            diagnostics.error(Position.NONE, "YAML syntax error: " + e.getMessage());
            return Optional.empty();
        }
    }

    /**
     * Anchors and aliases are refused: a plan is short enough to write out, and walking shared nodes is
     * how "billion laughs" documents blow up. Each node is visited once (by identity), so this pass
     * stays linear however the aliases nest. True when there are none.
     */
    private static boolean rejectAnchors(Node root, Diagnostics diagnostics) {
        Set<Node> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Node> pending = new ArrayList<>(List.of(root));
        boolean clean = true;
        while (!pending.isEmpty()) {
            Node node = pending.remove(pending.size() - 1);
            if (!seen.add(node)) {
                continue;
            }
            if (node.getAnchor().isPresent()) {
                diagnostics.error(Position.of(node), "YAML anchors and aliases (&" + node.getAnchor().get()
                        + ", *" + node.getAnchor().get() + ") are not supported in a plan; write the value out");
                clean = false;
            }
            if (node instanceof MappingNode mapping) {
                for (NodeTuple tuple : mapping.getValue()) {
                    pending.add(tuple.getKeyNode());
                    pending.add(tuple.getValueNode());
                }
            } else if (node instanceof SequenceNode sequence) {
                pending.addAll(sequence.getValue());
            }
        }
        return clean;
    }

    /**
     * The VRRP router id when the plan gives none: 1 + (CRC-32 of the cluster name mod 254), so two
     * clusters on one LAN are unlikely to clash and one cluster always gets the same id. 51 is
     * skipped (52 instead): it is keepalived's tutorial default, which other boxes on a home LAN use.
     */
    static int defaultRouterId(String clusterName) {
        CRC32 crc = new CRC32();
        crc.update(clusterName.getBytes(StandardCharsets.UTF_8));
        int id = 1 + (int) (crc.getValue() % 254);
        return id == TUTORIAL_ROUTER_ID ? TUTORIAL_ROUTER_ID + 1 : id;
    }

    /** Only called without errors: every value the plan needs was read or defaulted. */
    private static Plan build(Draft d, Path source) {
        Cluster cluster = new Cluster(d.clusterName, d.kubernetesVersion, d.podSubnet, d.serviceSubnet, d.dnsDomain,
                d.cni, d.keyAlgorithm);
        Vrrp vrrp = new Vrrp(d.routerId != null ? d.routerId : defaultRouterId(d.clusterName), d.unicast, d.preempt);
        Endpoint endpoint = new Endpoint(d.vip, d.port, d.loadBalancer, vrrp);
        Network network = new Network(d.subnet, d.gateway, d.dns != null ? d.dns : List.of(d.gateway), d.searchDomains,
                d.networkInterface);
        OsSettings os = new OsSettings(d.image, d.user, d.sshAuthorizedKeys, d.timezone, d.locale, d.ntpServers,
                d.registryMirrors);
        List<io.piimage.plan.Node> nodes = new ArrayList<>();
        for (NodeDraft n : d.nodes) {
            nodes.add(new io.piimage.plan.Node(n.name, n.role, n.address, n.model, n.labels, n.taints, n.image,
                    n.interfaceName, n.uplink));
        }
        return new Plan(source, cluster, endpoint, network, os, nodes);
    }
}
