package io.piimage.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.piimage.image.ImageProfiles;
import io.piimage.pki.KeyAlgorithm;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class StarterPlanTest {

    static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEyhZ8i+YCd1XNBRAE4jd6SKKj1cZ2m39l0vbYL5qMYz me@laptop";

    private static StarterPlan.Options options(LoadBalancerMode mode, int cps, int workers, String vip, String subnet, boolean gw) {
        return new StarterPlan.Options("starter", "1.34", cps, workers, mode, null, vip == null ? null : Ipv4.parse(vip), null,
                Cidr.parse(subnet), null, gw, "ubuntu-24.04", KeyAlgorithm.RSA_2048, List.of(KEY));
    }

    private static Plan load(String text) throws Exception {
        LoadedPlan loaded = PlanLoader.parse("plan.yaml", text, Path.of("plan.yaml"), ImageProfiles.packaged().names());
        return loaded.plan();
    }

    @Test
    void theDefaultIsTheSeedsTopologyAndLoads() throws Exception {
        StarterPlan.Options o = StarterPlan.Options.defaults();
        Plan plan = load(StarterPlan.render(new StarterPlan.Options(o.name(), o.kubernetesVersion(), o.controlPlanes(), o.workers(),
                o.loadBalancer(), o.loadBalancers(), o.vip(), o.port(), o.subnet(), o.gateway(), o.gatewayNode(), o.image(),
                o.keyAlgorithm(), List.of(KEY))));
        assertThat(plan.endpoint().vip()).hasToString("192.168.3.240");
        assertThat(plan.loadBalancers()).extracting(n -> n.address().toString()).containsExactly("192.168.3.241", "192.168.3.242");
        assertThat(plan.controlPlanes()).extracting(n -> n.address().toString())
                .containsExactly("192.168.3.251", "192.168.3.252", "192.168.3.253");
        assertThat(plan.workers()).hasSize(2);
        assertThat(plan.gatewayNode()).isPresent();
        assertThat(plan.os().sshAuthorizedKeys()).containsExactly(KEY);
        assertThat(plan.endpoint().vrrp().routerId()).isNotEqualTo(51);
    }

    @Test
    void everyTopologyLoads() throws Exception {
        Plan stacked = load(StarterPlan.render(options(LoadBalancerMode.STACKED, 3, 0, null, "10.0.0.0/24", false)));
        assertThat(stacked.endpoint().port()).isEqualTo(8443);
        assertThat(stacked.loadBalancers()).isEmpty();
        Plan vipOnly = load(StarterPlan.render(options(LoadBalancerMode.VIP_ONLY, 1, 5, null, "10.0.0.0/28", false)));
        assertThat(vipOnly.endpoint().port()).isEqualTo(6443);
        assertThat(vipOnly.nodes()).hasSize(6);
        Plan big = load(StarterPlan.render(options(LoadBalancerMode.DEDICATED, 7, 30, null, "172.16.0.0/16", true)));
        assertThat(big.nodes()).hasSize(1 + 2 + 7 + 30);
    }

    @Test
    void aGivenVipIsNeverHandedOutAgain() throws Exception {
        Plan plan = load(StarterPlan.render(options(LoadBalancerMode.DEDICATED, 3, 2, "192.168.3.241", "192.168.3.0/24", true)));
        assertThat(plan.endpoint().vip()).hasToString("192.168.3.241");
        assertThat(plan.nodes()).noneMatch(n -> n.address().toString().equals("192.168.3.241"));
    }

    @Test
    void impossibleChoicesSayWhy() {
        assertThatThrownBy(() -> StarterPlan.render(options(LoadBalancerMode.DEDICATED, 2, 2, null, "192.168.3.0/24", true)))
                .hasMessageContaining("odd number");
        assertThatThrownBy(() -> StarterPlan.render(options(LoadBalancerMode.DEDICATED, 3, 2, "10.0.0.1", "192.168.3.0/24", true)))
                .hasMessageContaining("not a host address of 192.168.3.0/24");
        assertThatThrownBy(() -> StarterPlan.render(options(LoadBalancerMode.DEDICATED, 3, 20, null, "192.168.3.0/29", true)))
                .hasMessageContaining("too few addresses");
    }

    /**
     * Whatever init is asked for, the plan it writes goes through the real loader with no error and no
     * warning: every load-balancer mode, image profile, key algorithm, with and without a gateway Pi.
     */
    @Test
    void everyStarterPlanPassesTheLoaderWithoutAFinding() throws Exception {
        int plans = 0;
        for (LoadBalancerMode mode : LoadBalancerMode.values()) {
            for (String image : ImageProfiles.packaged().names()) {
                for (KeyAlgorithm algorithm : KeyAlgorithm.values()) {
                    for (boolean gateway : List.of(true, false)) {
                        StarterPlan.Options o = new StarterPlan.Options("starter", StarterPlan.DEFAULT_KUBERNETES_VERSION, 3, 2,
                                mode, null, null, null, Cidr.parse("192.168.3.0/24"), null, gateway, image, algorithm, List.of(KEY));
                        String text = StarterPlan.render(o);
                        LoadedPlan loaded = PlanLoader.parse("plan.yaml", text, Path.of("plan.yaml"), ImageProfiles.packaged().names());
                        assertThat(loaded.warnings()).as(mode + " " + image + " " + algorithm + " gateway=" + gateway + ":\n" + text)
                                .isEmpty();
                        assertThat(loaded.plan().os().image()).isEqualTo(image);
                        plans++;
                    }
                }
            }
        }
        assertThat(plans).isEqualTo(LoadBalancerMode.values().length * ImageProfiles.packaged().names().size()
                * KeyAlgorithm.values().length * 2);
    }
}
