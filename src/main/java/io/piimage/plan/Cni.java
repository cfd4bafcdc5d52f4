package io.piimage.plan;

public enum Cni {
    FLANNEL("flannel"),
    CALICO("calico"),
    NONE("none");

    private final String key;

    Cni(String key) {
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
