package io.piimage.pipeline;

import io.piimage.image.ImagerManifest;
import io.piimage.plan.Node;
import io.piimage.plan.PiModel;
import io.piimage.plan.Plan;
import io.piimage.plan.Role;
import io.piimage.util.Quoting;
import java.io.IOException;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Raspberry Pi Imager for the cards of a plan: with whole node images, a custom repository that lists
 * every card by node; without them, the {@code rpi-imager --cli} line that writes a base image and seeds
 * it with the node's cloud-init files.
 */
public final class ImagerIntegration {


    private ImagerIntegration() {
    }

    /** One node's flashing command; IMAGE and DEVICE are the user's to fill in. */
    public record CliLine(Node node, String profile, String command) {
    }

    /**
     * For each node: {@code rpi-imager --cli --cloudinit-userdata DIR/node/user-data
     * --cloudinit-networkconfig DIR/node/network-config IMAGE DEVICE}. Imager writes its own meta-data
     * and instance id; that is fine, the instance id only has to be new for each flash.
     */
    public static List<CliLine> cliLines(Plan plan, Path outputDir) {
        List<CliLine> lines = new ArrayList<>();
        for (Node node : plan.nodes()) {
            Path dir = outputDir.resolve(node.name());
            String command = "rpi-imager --cli --cloudinit-userdata " + Quoting.shellIfNeeded(dir.resolve("user-data").toString())
                    + " --cloudinit-networkconfig " + Quoting.shellIfNeeded(dir.resolve("network-config").toString())
                    + " IMAGE DEVICE";
            lines.add(new CliLine(node, plan.imageOf(node), command));
        }
        return lines;
    }

    /**
     * A node's image as published: possibly compressed, with the size and SHA-256 of the raw image
     * inside ({@code extract*}) and of the file itself ({@code download*}), all taken while it was written.
     */
    public record ImageFile(Node node, Path file, long extractSize, String extractSha256, long downloadSize,
                            String downloadSha256) {
    }

    /**
     * Writes {@code dir/<cluster>.rpi-imager-manifest} listing every node's image in plan order. Every
     * entry carries both sizes and both SHA-256s: Imager checks what it writes against extract_sha256.
     */
    public static Path writeManifest(Plan plan, Path dir, List<ImageFile> images, LocalDate released) throws IOException {
        Map<Node, ImageFile> byNode = new java.util.HashMap<>();
        images.forEach(image -> byNode.put(image.node(), image));
        List<ImagerManifest.Entry> entries = new ArrayList<>();
        for (Node node : plan.nodes()) {
            ImageFile f = byNode.get(node);
            if (f != null) {
                entries.add(new ImagerManifest.Entry(entryName(plan, node), description(plan, node), f.file(),
                        f.extractSize(), f.extractSha256(), f.downloadSize(), f.downloadSha256(), released, devices(node)));
            }
        }
        return ImagerManifest.write(dir, plan.cluster().name(), entries);
    }

    private static List<String> devices(Node node) {
        return node.model() != null
                ? List.of(ImagerManifest.deviceTag(node.model().key()))
                : List.of(ImagerManifest.deviceTag(PiModel.PI3.key()), ImagerManifest.deviceTag(PiModel.PI4.key()),
                        ImagerManifest.deviceTag(PiModel.PI5.key()));
    }

    static String entryName(Plan plan, Node node) {
        return plan.cluster().name() + ": " + node.name();
    }

    static String description(Plan plan, Node node) {
        String what = switch (node.role()) {
            case CONTROL_PLANE -> node.equals(plan.firstControlPlane())
                    ? "control plane (first: runs kubeadm init)" : "control plane (joins the cluster)";
            case WORKER -> "worker";
            case LOAD_BALANCER -> "load balancer (HAProxy + keepalived for " + plan.endpoint().hostPort() + ")";
            case GATEWAY -> "gateway (NAT to the home LAN)";
        };
        String kubernetes = node.role() == Role.CONTROL_PLANE || node.role() == Role.WORKER
                ? ", Kubernetes " + plan.cluster().kubernetesVersion() : "";
        return node.address() + " \u00b7 " + what + kubernetes + " \u00b7 " + plan.imageOf(node);
    }
}
