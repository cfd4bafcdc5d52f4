package io.piimage.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.status.ClusterStatus;
import io.piimage.status.ClusterStatus.CertificateExpiry;
import io.piimage.status.ClusterStatus.Check;
import io.piimage.status.ClusterStatus.Level;
import io.piimage.status.ClusterStatus.NodeState;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** status names the planned nodes that have not joined yet, and every certificate's end, the CA's included. */
class StatusTextNotJoinedTest {

    @Test
    void plannedNodesThatHaveNotJoinedAreListedWithTheCertificatesEnds() {
        ClusterStatus status = new ClusterStatus("home", Instant.parse("2027-03-01T00:00:00Z"),
                List.of(new Check("nodes", Level.FAIL, "2/4 Ready; not registered: w2, cp3")),
                List.of(new NodeState("cp1", "control-plane", true, true, "Ready"),
                        new NodeState("w1", "worker", true, true, "Ready"),
                        new NodeState("cp3", "control-plane", false, false, "not registered"),
                        new NodeState("w2", "worker", false, false, "not registered")),
                List.of(),
                List.of(new CertificateExpiry("cluster CA", "CN=kubernetes", Instant.parse("2036-11-29T12:00:00Z"), Level.OK),
                        new CertificateExpiry("admin client (kubeconfig)", "CN=kubernetes-admin,O=kubeadm:cluster-admins",
                                Instant.parse("2027-12-01T12:00:00Z"), Level.OK)));
        StringWriter text = new StringWriter();
        StatusText.report(status, new PrintWriter(text));
        assertThat(text.toString())
                .contains("not joined yet: cp3, w2 (power their cards on; a card older than 28 days needs a new bake)")
                .contains("cluster CA                   2036-11-29")
                .contains("admin client (kubeconfig)    2027-12-01");

        StringWriter none = new StringWriter();
        StatusText.report(new ClusterStatus("home", Instant.EPOCH, List.of(), List.of(new NodeState("cp1", "control-plane", true, true,
                "Ready")), List.of(), List.of()), new PrintWriter(none));
        assertThat(none.toString()).doesNotContain("not joined yet");
    }
}
