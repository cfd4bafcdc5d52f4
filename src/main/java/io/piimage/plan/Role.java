package io.piimage.plan;

/** What a node is for; the plan spells these in kebab case. */
public enum Role {
    CONTROL_PLANE("control-plane"),
    WORKER("worker"),
    LOAD_BALANCER("load-balancer"),
    GATEWAY("gateway");

    private final String key;

    Role(String key) {
        this.key = key;
    }

    /** The plan's spelling, also the overlay directory name. */
    public String key() {
        return key;
    }

    public boolean isKubernetes() {
        return this == CONTROL_PLANE || this == WORKER;
    }

    @Override
    public String toString() {
        return key;
    }
}
