package io.piimage.plan;

/** How the endpoint's VIP is served: see docs/plan-format.md, "Load-balancer topologies". */
public enum LoadBalancerMode {
    DEDICATED("dedicated"),
    STACKED("stacked"),
    VIP_ONLY("vip-only");

    private final String key;

    LoadBalancerMode(String key) {
        this.key = key;
    }

    public String key() {
        return key;
    }

    @Override
    public String toString() {
        return key;
    }
}
