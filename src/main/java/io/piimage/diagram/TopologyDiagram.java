package io.piimage.diagram;

import io.piimage.plan.LoadBalancerMode;
import io.piimage.plan.Node;
import io.piimage.plan.Plan;
import io.piimage.plan.Role;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The cluster's topology as a standalone SVG picture, in the spirit of the seeds' architecture
 * drawings: the home LAN and the gateway on top, then inside the cluster LAN the VIP, the load
 * balancers (active/standby), the control planes (stacked etcd, active/active) and the workers, each
 * box with its name and address. Plain SVG text, no dependency; {@link #svg(Plan)} is deterministic.
 */
public final class TopologyDiagram {

    static final int BOX_W = 204;
    static final int BOX_H = 66;
    static final int GAP = 28;
    static final int MARGIN = 32;
    static final int PER_ROW = 6;
    static final int MIN_WIDTH = 760;

    private static final String FONT = "DejaVu Sans, Verdana, Arial, sans-serif";

    private TopologyDiagram() {
    }

    private record Style(String fill, String stroke) {
    }

    private static Style style(Role role) {
        return switch (role) {
            case CONTROL_PLANE -> new Style("#dbe8fb", "#326ce5");
            case WORKER -> new Style("#e3f4e1", "#3a8f3a");
            case LOAD_BALANCER -> new Style("#fdebd3", "#d9822b");
            case GATEWAY -> new Style("#ececec", "#6b6b6b");
        };
    }

    /** A box's centre, to draw links between rows. */
    private record Placed(Node node, int x, int y) {
        int centerX() {
            return x + BOX_W / 2;
        }
    }

    public static String svg(Plan plan) {
        List<Node> lbs = plan.endpoint().loadBalancer() == LoadBalancerMode.DEDICATED ? plan.loadBalancers() : List.of();
        List<Node> cps = plan.controlPlanes();
        List<Node> workers = plan.workers();
        int widest = Math.max(3, Math.min(PER_ROW, Math.max(lbs.size(), Math.max(cps.size(), workers.size()))));
        int width = Math.max(MIN_WIDTH, 2 * MARGIN + 2 * 20 + widest * (BOX_W + GAP) - GAP);

        Svg out = new Svg();
        int y = 36;
        out.text(MARGIN, y, 20, "bold", "start", "#222", plan.cluster().name() + " \u2014 Kubernetes "
                + plan.cluster().kubernetesVersion() + " on Raspberry Pi");
        y += 22;
        out.text(MARGIN, y, 13, "normal", "start", "#555", summary(plan));

        // Home LAN and gateway above the cluster LAN.
        y += 22;
        int center = width / 2;
        var gatewayNode = plan.gatewayNode();
        int frameTop;
        if (gatewayNode.isPresent()) {
            Node gw = gatewayNode.get();
            out.cloud(center, y + 20, "home LAN / internet");
            int boxY = y + 64;
            String uplink = gw.uplink() != null ? gw.uplink() : "uplink";
            out.line(center, y + 38, center, boxY, "#6b6b6b", false);
            out.smallLabel(center + 8, y + 54, uplink + " (DHCP, masquerade)");
            out.box(new Placed(gw, center - BOX_W / 2, boxY), style(Role.GATEWAY), "gateway \u00b7 NAT router",
                    null);
            out.smallLabel(center + 8, boxY + BOX_H + 15, plan.interfaceOf(gw) + " (cluster side)");
            frameTop = boxY + BOX_H + 22;
            out.line(center, boxY + BOX_H, center, frameTop, "#6b6b6b", false);
        } else {
            out.cloud(center, y + 20, "router " + plan.network().gateway() + " (not in this plan)");
            frameTop = y + 62;
            out.line(center, y + 38, center, frameTop, "#6b6b6b", false);
        }

        // The cluster LAN frame; its height is known once the rows are laid out.
        int frameLeft = MARGIN;
        int frameWidth = width - 2 * MARGIN;
        int frameIndex = out.placeholder();
        y = frameTop + 26;
        out.text(frameLeft + 14, y, 13, "bold", "start", "#333", "cluster LAN " + plan.network().subnet()
                + "  \u00b7  gateway " + plan.network().gateway() + "  \u00b7  dns "
                + plan.network().dns().stream().map(Object::toString).collect(Collectors.joining(", ")));

        // VIP.
        y += 24;
        int vipW = 380;
        int vipH = 50;
        int vipBottom = y + vipH;
        out.vip(center - vipW / 2, y, vipW, vipH, "VIP " + plan.endpoint().hostPort(), vrrpLine(plan));
        y = vipBottom + 52;

        List<Placed> upper = List.of();
        if (!lbs.isEmpty()) {
            List<Placed> placed = row(lbs, center, y);
            for (int i = 0; i < placed.size(); i++) {
                Placed p = placed.get(i);
                out.line(center, vipBottom, p.centerX(), p.y(), "#8e44ad", i > 0);
            }
            out.rowLabel(frameLeft + 14, y - 10, "load balancers \u00b7 HAProxy + keepalived (active/standby)");
            for (Placed p : placed) {
                out.box(p, style(Role.LOAD_BALANCER), "HAProxy :" + plan.endpoint().port() + " \u00b7 keepalived", null);
            }
            upper = placed;
            y = bottom(placed) + 52;
        }

        if (!cps.isEmpty()) {
            String what = switch (plan.endpoint().loadBalancer()) {
                case DEDICATED -> "apiserver :6443 \u00b7 etcd";
                case STACKED -> "apiserver \u00b7 etcd \u00b7 HAProxy :" + plan.endpoint().port();
                case VIP_ONLY -> "apiserver :6443 \u00b7 etcd \u00b7 keepalived";
            };
            List<Placed> placed = row(cps, center, y);
            for (Placed p : placed) {
                if (upper.isEmpty()) {
                    out.line(center, vipBottom, p.centerX(), p.y(), "#8e44ad", false);
                } else {
                    for (Placed u : upper) {
                        out.line(u.centerX(), u.y() + BOX_H, p.centerX(), p.y(), "#326ce5", false);
                    }
                }
            }
            out.rowLabel(frameLeft + 14, y - 10, "control planes \u00b7 stacked etcd (active/active)");
            Node first = plan.firstControlPlane();
            for (Placed p : placed) {
                out.box(p, style(Role.CONTROL_PLANE), what, p.node().equals(first) ? "runs kubeadm init; the others join one at a time" : null);
            }
            y = bottom(placed) + 52;
        }

        if (!workers.isEmpty()) {
            out.rowLabel(frameLeft + 14, y - 10, "workers \u00b7 kubelet joins through " + plan.endpoint().hostPort());
            List<Placed> placed = row(workers, center, y);
            for (Placed p : placed) {
                out.box(p, style(Role.WORKER), "kubelet \u00b7 containerd", null);
            }
            y = bottom(placed) + 30;
        } else {
            y -= 22;
        }

        int frameBottom = y;
        out.fill(frameIndex, String.format(Locale.ROOT,
                "<rect class=\"lan\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"14\" fill=\"#fafbfd\" "
                        + "stroke=\"#9aa7b8\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>",
                frameLeft, frameTop, frameWidth, frameBottom - frameTop));

        y = frameBottom + 26;
        out.text(MARGIN, y, 12, "normal", "start", "#555", "pods " + plan.cluster().podSubnet() + "  \u00b7  services "
                + plan.cluster().serviceSubnet() + "  \u00b7  CNI " + plan.cluster().cni() + "  \u00b7  PKI "
                + plan.cluster().keyAlgorithm() + "  \u00b7  image " + plan.os().image());
        int height = y + 20;
        return out.document(width, height, plan.cluster().name());
    }

    private static String summary(Plan plan) {
        List<String> parts = new ArrayList<>();
        parts.add(count(plan.controlPlanes().size(), "control plane"));
        parts.add(count(plan.workers().size(), "worker"));
        if (!plan.loadBalancers().isEmpty()) {
            parts.add(count(plan.loadBalancers().size(), "load balancer"));
        }
        if (plan.gatewayNode().isPresent()) {
            parts.add("1 gateway");
        }
        return String.join(", ", parts) + "  \u00b7  endpoint " + plan.endpoint().loadBalancer();
    }

    private static String count(int n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }

    private static String vrrpLine(Plan plan) {
        var vrrp = plan.endpoint().vrrp();
        String holders = switch (plan.endpoint().loadBalancer()) {
            case DEDICATED -> "load balancers";
            case STACKED, VIP_ONLY -> "control planes";
        };
        return "VRRP id " + vrrp.routerId() + " \u00b7 " + (vrrp.unicast() ? "unicast" : "multicast") + " \u00b7 "
                + (vrrp.preempt() ? "preempt" : "nopreempt") + " \u00b7 held by " + holders;
    }

    /** Lays nodes out centred, at most {@link #PER_ROW} a row. */
    private static List<Placed> row(List<Node> nodes, int center, int top) {
        List<Placed> placed = new ArrayList<>();
        for (int start = 0, r = 0; start < nodes.size(); start += PER_ROW, r++) {
            int n = Math.min(PER_ROW, nodes.size() - start);
            int rowWidth = n * BOX_W + (n - 1) * GAP;
            int x = center - rowWidth / 2;
            int y = top + r * (BOX_H + GAP);
            for (int i = 0; i < n; i++) {
                placed.add(new Placed(nodes.get(start + i), x + i * (BOX_W + GAP), y));
            }
        }
        return placed;
    }

    private static int bottom(List<Placed> placed) {
        return placed.stream().mapToInt(p -> p.y() + BOX_H).max().orElse(0);
    }

    /** Accumulates SVG elements; text is always escaped. */
    private static final class Svg {
        private final List<String> elements = new ArrayList<>();

        int placeholder() {
            elements.add("");
            return elements.size() - 1;
        }

        void fill(int index, String element) {
            elements.set(index, element);
        }

        void text(int x, int y, int size, String weight, String anchor, String color, String text) {
            elements.add(String.format(Locale.ROOT,
                    "<text x=\"%d\" y=\"%d\" font-size=\"%d\" font-weight=\"%s\" text-anchor=\"%s\" fill=\"%s\">%s</text>",
                    x, y, size, weight, anchor, color, escape(text)));
        }

        /** A row's caption, haloed so the links crossing it stay readable. */
        void rowLabel(int x, int y, String text) {
            elements.add(String.format(Locale.ROOT,
                    "<text x=\"%d\" y=\"%d\" font-size=\"12\" font-weight=\"bold\" fill=\"#566\" "
                            + "stroke=\"#fafbfd\" stroke-width=\"5\" paint-order=\"stroke\">%s</text>",
                    x, y, escape(text)));
        }

        void smallLabel(int x, int y, String text) {
            text(x, y, 11, "normal", "start", "#666", text);
        }

        void line(int x1, int y1, int x2, int y2, String color, boolean dashed) {
            elements.add(String.format(Locale.ROOT,
                    "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"1.6\"%s/>",
                    x1, y1, x2, y2, color, dashed ? " stroke-dasharray=\"5 4\"" : ""));
        }

        void cloud(int cx, int cy, String label) {
            elements.add(String.format(Locale.ROOT,
                    "<ellipse class=\"uplink\" cx=\"%d\" cy=\"%d\" rx=\"130\" ry=\"18\" fill=\"#f4f4f4\" stroke=\"#999\"/>",
                    cx, cy));
            text(cx, cy + 5, 13, "normal", "middle", "#444", label);
        }

        void vip(int x, int y, int w, int h, String title, String detail) {
            elements.add(String.format(Locale.ROOT,
                    "<g class=\"vip\"><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"%d\" fill=\"#f3e8fa\" "
                            + "stroke=\"#8e44ad\" stroke-width=\"2\" stroke-dasharray=\"7 4\"/>",
                    x, y, w, h, h / 2));
            text(x + w / 2, y + 21, 15, "bold", "middle", "#5b2c6f", title);
            text(x + w / 2, y + 38, 11, "normal", "middle", "#5b2c6f", detail);
            elements.add("</g>");
        }

        /** A node: name, address (and model), what runs there; {@code note} (nullable) goes under the box. */
        void box(Placed p, Style style, String detail, String note) {
            Node node = p.node();
            elements.add(String.format(Locale.ROOT,
                    "<g class=\"node role-%s\" id=\"node-%s\"><title>%s</title>"
                            + "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"8\" fill=\"%s\" stroke=\"%s\" stroke-width=\"1.8\"/>",
                    node.role().key(), escape(node.name()), escape(node.name() + " (" + node.role().key() + ") " + node.address()),
                    p.x(), p.y(), BOX_W, BOX_H, style.fill(), style.stroke()));
            int cx = p.centerX();
            text(cx, p.y() + 20, 14, "bold", "middle", "#1d1d1d", node.name());
            String address = node.address() + (node.model() == null ? "" : " \u00b7 " + node.model().key());
            text(cx, p.y() + 37, 12, "normal", "middle", "#333", address);
            text(cx, p.y() + 55, 10, "normal", "middle", "#555", detail);
            if (note != null) {
                text(p.x() + 4, p.y() + BOX_H + 13, 10, "normal", "start", "#326ce5", note);
            }
            elements.add("</g>");
        }

        String document(int width, int height, String name) {
            StringBuilder svg = new StringBuilder();
            svg.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
            svg.append(String.format(Locale.ROOT,
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                            + "font-family=\"%s\" role=\"img\" aria-label=\"%s\">%n",
                    width, height, width, height, FONT, escape("Topology of cluster " + name)));
            svg.append("<title>").append(escape("Topology of cluster " + name)).append("</title>\n");
            svg.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>%n", width, height));
            for (String element : elements) {
                if (!element.isEmpty()) {
                    svg.append(element).append('\n');
                }
            }
            svg.append("</svg>\n");
            return svg.toString();
        }
    }

    static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&apos;");
                default -> {
                    if (c < 0x20 && c != '\n' && c != '\t') {
                        out.append('?');
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }
}
