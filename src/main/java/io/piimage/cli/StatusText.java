package io.piimage.cli;

import io.piimage.status.ClusterStatus;
import io.piimage.status.ClusterStatus.Check;
import io.piimage.status.ClusterStatus.Level;
import java.io.PrintWriter;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/** How status and wait print a {@link ClusterStatus}. */
final class StatusText {

    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("yyyy-MM-dd").withZone(ZoneOffset.UTC);

    private StatusText() {
    }

    static void report(ClusterStatus status, PrintWriter out) {
        out.printf("cluster %s%n", status.cluster());
        for (Check check : status.checks()) {
            out.printf("  %-4s %-24s %s%n", mark(check.level()), check.name(), check.detail());
        }
        if (!status.nodes().isEmpty()) {
            out.println("nodes:");
            for (var node : status.nodes()) {
                out.printf("  %-4s %-16s %-14s %s%n", node.ready() ? "ok" : node.detail().equals("unknown") ? "?" : "FAIL",
                        node.name(), node.role(), node.detail());
            }
            if (!status.missingNodes().isEmpty()) {
                // Planned but not joined: a card joins by itself within 28 days of its bake (its join certificate).
                out.printf("not joined yet: %s (power their cards on; a card older than 28 days needs a new bake)%n",
                        String.join(", ", status.missingNodes()));
            }
        }
        if (!status.etcdMembers().isEmpty()) {
            out.println("etcd members:");
            for (var member : status.etcdMembers()) {
                out.printf("  %-16s %-8s id %s %s%n", member.name().isEmpty() ? "(unstarted)" : member.name(),
                        member.learner() ? "learner" : "voter", member.id(), String.join(",", member.clientUrls()));
            }
        }
        if (!status.certificates().isEmpty()) {
            out.println("certificates (valid until):");
            for (var certificate : status.certificates()) {
                out.printf("  %-4s %-28s %s  %s%n", mark(certificate.level()), certificate.what(),
                        DATE.format(certificate.notAfter()), certificate.subject());
            }
        }
        out.println(status.ok() ? "the cluster matches the plan"
                : "the cluster does not match the plan yet: " + status.failures().size() + " check(s) failed");
        out.flush();
    }

    /** One line for wait's progress: what is still missing. */
    static String progress(ClusterStatus status) {
        if (status.ok()) {
            return "ready: " + status.nodes().size() + " nodes Ready, " + status.etcdMembers().size() + " etcd members";
        }
        List<String> parts = new ArrayList<>();
        for (Check check : status.failures()) {
            if (check.name().equals("nodes")) {
                continue;
            }
            parts.add(check.name() + " (" + check.detail() + ")");
        }
        if (!status.missingNodes().isEmpty()) {
            parts.add("not registered: " + String.join(", ", status.missingNodes()));
        }
        if (!status.notReadyNodes().isEmpty()) {
            parts.add("not Ready: " + String.join(", ", status.notReadyNodes()));
        }
        long ready = status.nodes().stream().filter(ClusterStatus.NodeState::ready).count();
        return "waiting: " + ready + "/" + status.nodes().size() + " nodes Ready; " + String.join("; ", parts);
    }

    private static String mark(Level level) {
        return switch (level) {
            case OK -> "ok";
            case WARN -> "warn";
            case FAIL -> "FAIL";
        };
    }
}
