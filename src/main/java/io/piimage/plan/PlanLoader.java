package io.piimage.plan;

import io.piimage.plan.PlanReader.Draft;
import io.piimage.plan.PlanReader.NodeDraft;
import java.io.IOException;
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
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/**
 * Loads a {@code piimage/v1} cluster plan: parses the YAML keeping every value's line and column,
 * checks it against plan-format.md, fills the defaults. Every problem is reported at once; a plan with
 * an error yields no {@link Plan}.
 */
public final class PlanLoader {

    /** keepalived's tutorial default: a router id every copied config uses, so it clashes on a shared LAN. */
    static final int TUTORIAL_ROUTER_ID = 51;

    private PlanLoader() {
    }

    /** Loads {@code file}; diagnostics name it as given ({@code file.toString()}). */
    public static LoadedPlan load(Path file, Set<String> imageProfiles) throws InvalidPlanException, IOException {
        return parse(file.toString(), Files.readString(file, StandardCharsets.UTF_8), file, imageProfiles);
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
        Optional<Node> root = compose(displayName, yaml, diagnostics);
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
        return new LoadedPlan(build(draft, source), diagnostics.warnings());
    }

    private static Optional<Node> compose(String displayName, String yaml, Diagnostics diagnostics) {
        LoadSettings settings = LoadSettings.builder()
                .setLabel(displayName)
                .setMaxAliasesForCollections(10) // aliases are refused anyway; this bounds what gets that far
                .build();
        try {
            return new Compose(settings).composeString(yaml);
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
