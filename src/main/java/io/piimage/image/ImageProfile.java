package io.piimage.image;

/**
 * What piimage knows about one base OS image: who the default user is, where the boot partition is
 * mounted and labelled, and which cloud-init quirks apply. Loaded from {@code images/NAME.yaml}.
 *
 * @param aptModule whether the image's cloud-init has the apt_configure module (Raspberry Pi OS's has not)
 * @param swap      how the image swaps: none | rpi-swap
 */
public record ImageProfile(
        String name,
        String description,
        String defaultUser,
        String bootLabel,
        String bootMountPoint,
        String rootLabel,
        String seedDirectory,
        boolean aptModule,
        String networkRenderer,
        String swap,
        String firewall) {
}
