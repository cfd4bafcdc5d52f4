package io.piimage.pipeline;

import io.piimage.image.ImageProfile;
import io.piimage.image.ImageProfiles;
import io.piimage.pki.ClusterSecrets;
import io.piimage.plan.LoadBalancerMode;
import io.piimage.plan.Node;
import io.piimage.plan.Plan;
import io.piimage.plan.Role;
import io.piimage.render.FileTree;
import io.piimage.render.NodeFile;
import io.piimage.render.OverlayRenderer;
import io.piimage.render.RenderException;
import io.piimage.render.Templates;
import io.piimage.render.WriteFile;
import io.piimage.util.Quoting;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Renders one node's card: its overlays, its role's secrets, and the three cloud-init seed files. */
final class NodeRenderer {

    private final Plan plan;
    private final ClusterSecrets secrets;
    private final ImageProfiles profiles;
    private final Templates templates;
    private final OverlayRenderer overlays;

    NodeRenderer(Plan plan, ClusterSecrets secrets, ImageProfiles profiles, Templates templates) {
        this.plan = plan;
        this.secrets = secrets;
        this.profiles = profiles;
        this.templates = templates;
        this.overlays = new OverlayRenderer(templates);
    }

    /** The seed files on a card's boot partition, each rendered from {@link #seedTemplate}. */
    private static final List<String> SEEDS = List.of("user-data", "meta-data", "network-config");
    /** Overlay trees besides each role's own (named by its key): see {@link #overlaysFor}. */
    private static final String COMMON = "common";
    private static final String KUBERNETES = "kubernetes";
    private static final String VIP = "vip";
    private static final String HAPROXY = "haproxy";

    private static String seedTemplate(String seed) {
        return "cloud-init/" + seed + ".ftl";
    }

    /**
     * Parses every template a node of any role may need, before the plan is known: a bake does this on
     * another thread while the plan loads and the secrets are read, instead of on first use.
     */
    static void parseAhead(Templates templates) {
        List<String> all = new ArrayList<>(List.of(COMMON, KUBERNETES, VIP, HAPROXY));
        for (Role role : Role.values()) {
            all.add(role.key());
        }
        new OverlayRenderer(templates).parseAhead(all);
        templates.parseAhead(SEEDS.stream().map(NodeRenderer::seedTemplate).toList());
    }

    /**
     * The overlay trees a node gets, most general first. Nodes that hold the VIP get {@code vip}
     * (keepalived); nodes that run HAProxy get {@code haproxy}: the dedicated load balancers, or every
     * control plane when stacked.
     */
    List<String> overlaysFor(Node node) {
        List<String> names = new ArrayList<>();
        names.add(COMMON);
        if (node.role().isKubernetes()) {
            names.add(KUBERNETES);
        }
        names.add(node.role().key());
        if (plan.isVipHolder(node)) {
            names.add(VIP);
        }
        boolean runsHaproxy = node.role() == Role.LOAD_BALANCER
                || (node.role() == Role.CONTROL_PLANE && plan.endpoint().loadBalancer() == LoadBalancerMode.STACKED);
        if (runsHaproxy) {
            names.add(HAPROXY);
        }
        return names;
    }

    /** cloud-init's instance id: changes when the secrets are made anew, so a re-seeded card runs again. */
    String instanceId(Node node) {
        return plan.cluster().name() + "-" + node.name() + "-" + secrets.generation().substring(0, 8);
    }

    Map<String, Object> model(Node node) {
        ImageProfile profile = profiles.get(plan.imageOf(node));
        Map<String, Object> model = new HashMap<>();
        model.put("piimage", Map.of("version", Version.get()));
        model.put("plan", plan);
        model.put("cluster", plan.cluster());
        model.put("endpoint", plan.endpoint());
        model.put("network", plan.network());
        model.put("os", plan.os());
        model.put("nodes", plan.nodes());
        model.put("controlPlanes", plan.controlPlanes());
        model.put("workers", plan.workers());
        model.put("loadBalancers", plan.loadBalancers());
        model.put("vipHolders", plan.vipHolders());
        model.put("node", node);
        model.put("nodeInterface", plan.interfaceOf(node));
        // Installed by the first-boot phase 15-packages (with retries), not by cloud-init's one-shot step.
        model.put("packages", overlays.packages(overlaysFor(node)));
        model.put("profile", profile);
        model.put("user", plan.os().user() != null ? plan.os().user() : profile.defaultUser());
        model.put("isFirstControlPlane", plan.isFirstControlPlane(node));
        model.put("isVipHolder", plan.isVipHolder(node));
        model.put("vipHolderIndex", plan.vipHolderIndex(node));
        model.put("secrets", RoleSecrets.templateValues(plan, node, secrets));
        model.put("instanceId", instanceId(node));
        model.put("kubeletLabels", KubeletLabels.kubeletFlag(node));
        Map<String, Map<String, String>> restrictedLabels = new java.util.LinkedHashMap<>();
        for (Node n : plan.nodes()) {
            if (n.role().isKubernetes() && !KubeletLabels.restricted(n).isEmpty()) {
                restrictedLabels.put(n.name(), KubeletLabels.restricted(n));
            }
        }
        model.put("restrictedLabels", restrictedLabels);
        model.put("sh", (freemarker.template.TemplateMethodModelEx) NodeRenderer::shellQuote);
        return model;
    }

    /** {@code sh(value)} in templates: one shell word, single-quoted, that bash reads back as exactly the value. */
    private static Object shellQuote(List<?> arguments) throws freemarker.template.TemplateModelException {
        if (arguments.size() != 1) {
            throw new freemarker.template.TemplateModelException("sh() takes one argument");
        }
        Object value = freemarker.template.utility.DeepUnwrap.unwrap((freemarker.template.TemplateModel) arguments.get(0));
        return Quoting.shell(String.valueOf(value));
    }

    NodeCard render(Node node) throws RenderException {
        Map<String, Object> model = model(node);
        List<String> overlayNames = overlaysFor(node);
        List<NodeFile> files = new ArrayList<>(overlays.render(overlayNames, model));
        List<NodeFile> secretFiles = RoleSecrets.files(plan, node, secrets);
        files.addAll(secretFiles);
        FileTree nodeFiles = FileTree.builder().addAll(files).build();

        List<WriteFile> writeFiles = nodeFiles.files().stream().map(WriteFile::of).toList();
        Map<String, Object> seedModel = new HashMap<>(model);
        seedModel.put("files", writeFiles);
        seedModel.put("secretsOnCard", nodeFiles.files().stream().anyMatch(NodeFile::isSecret));
        ImageProfile profile = (ImageProfile) model.get("profile");
        boolean firstBootUnit = nodeFiles.file("/etc/systemd/system/piimage-firstboot.service").isPresent();
        seedModel.put("runcmd", runcmd(profile, nodeFiles, firstBootUnit));
        seedModel.put("firstBootUnit", firstBootUnit);

        FileTree.Builder boot = FileTree.builder();
        for (String seed : SEEDS) {
            boot.add(NodeFile.text(seed, templates.render(seedTemplate(seed), seedModel), NodeFile.SECRET));
        }
        if (profile.needsUserconf()) {
            // Raspberry Pi OS's userconfig.service (userconf-pi) asks for a user name and password on
            // the console, holding multi-user.target (and cloud-final after it), unless userconf.txt
            // names one: the image's own user, password locked ("!"), so nothing is renamed and SSH
            // keys stay the only way in. userconf-pi deletes the file once it has read it.
            boot.add(NodeFile.text("userconf.txt", profile.defaultUser() + ":!\n", NodeFile.READABLE));
        }
        return new NodeCard(node, profile, boot.build(), nodeFiles);
    }

    /**
     * First-boot commands: enable sshd where the image ships it disabled, apply the sysctls and
     * modules written above, then enable and start the first-boot unit if there is one (enabled, it
     * starts by itself on later boots).
     */
    private static List<String> runcmd(ImageProfile profile, FileTree nodeFiles, boolean firstBootUnit) {
        List<String> commands = new ArrayList<>();
        if (profile.sshNeedsEnabling()) {
            // What Raspberry Pi Imager writes for the same reason; a no-op once enabled and running.
            commands.add("systemctl enable --now ssh");
        }
        if (nodeFiles.files().stream().anyMatch(f -> f.path().startsWith("/etc/modules-load.d/"))) {
            commands.add("systemctl restart systemd-modules-load.service");
        }
        if (nodeFiles.files().stream().anyMatch(f -> f.path().startsWith("/etc/sysctl.d/"))) {
            commands.add("sysctl --system");
        }
        if (firstBootUnit) {
            commands.add("systemctl daemon-reload");
            commands.add("systemctl enable --now --no-block piimage-firstboot.service");
        }
        return commands;
    }
}
