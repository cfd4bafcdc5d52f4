package io.piimage.plan;

/** Raspberry Pi board generations the plan may name; memory matters for control planes. */
public enum PiModel {
    PI3("pi3", 1024),
    PI4("pi4", 2048),
    PI5("pi5", 4096);

    private final String key;
    private final int minimumMemoryMiB;

    PiModel(String key, int minimumMemoryMiB) {
        this.key = key;
        this.minimumMemoryMiB = minimumMemoryMiB;
    }

    public String key() {
        return key;
    }

    /** The smallest memory this model ships with. */
    public int minimumMemoryMiB() {
        return minimumMemoryMiB;
    }

    @Override
    public String toString() {
        return key;
    }
}
