package io.piimage.plan;

/**
 * "1.31" (newest patch at boot) or "1.31.4" (pinned). {@code patch} is -1 when the plan gives none.
 */
public record KubernetesVersion(int major, int minor, int patch) {

    /**
     * The minors piimage knows how to install: kubeadm config v1beta4 starts at 1.31, and 1.37 is the
     * newest released when this list was last checked. A newer minor needs a piimage that knows it.
     */
    public static final int OLDEST_MINOR = 31;
    public static final int NEWEST_MINOR = 37;

    public static KubernetesVersion parse(String text) {
        String[] parts = text.split("\\.", -1);
        if (parts.length < 2 || parts.length > 3) {
            throw new IllegalArgumentException("'" + text + "' is not a Kubernetes version (1.31 or 1.31.4)");
        }
        int[] numbers = new int[3];
        numbers[2] = -1;
        for (int i = 0; i < parts.length; i++) {
            if (parts[i].isEmpty() || parts[i].length() > 4 || !parts[i].chars().allMatch(Character::isDigit)) {
                throw new IllegalArgumentException("'" + text + "' is not a Kubernetes version (1.31 or 1.31.4)");
            }
            numbers[i] = Integer.parseInt(parts[i]);
        }
        return new KubernetesVersion(numbers[0], numbers[1], numbers[2]);
    }

    /** 1.31 to 1.37. */
    public boolean known() {
        return major == 1 && minor >= OLDEST_MINOR && minor <= NEWEST_MINOR;
    }

    public boolean pinned() {
        return patch >= 0;
    }

    /** "1.31": names the pkgs.k8s.io repository. */
    public String minorVersion() {
        return major + "." + minor;
    }

    public boolean atLeast(int wantMajor, int wantMinor) {
        return major > wantMajor || (major == wantMajor && minor >= wantMinor);
    }

    @Override
    public String toString() {
        return pinned() ? major + "." + minor + "." + patch : major + "." + minor;
    }
}
