package io.piimage.image;

/**
 * What piimage knows about one base OS image: who the default user is, where the boot partition is
 * mounted and labelled, and which cloud-init quirks apply. Loaded from {@code images/NAME.yaml}.
 *
 * @param aptModule whether the image's cloud-init has the apt_configure module (Raspberry Pi OS's has not)
 * @param swap      how the image swaps: none | rpi-swap
 * @param sshService  enabled | disabled: whether the image starts sshd by itself (Raspberry Pi OS does not)
 * @param userWizard  none | userconf: Raspberry Pi OS asks for a user on the console at first boot
 *                    (userconf-pi) unless the boot partition has a {@code userconf.txt}
 * @param usbNicNames kernel | mac: what a USB Ethernet adapter is called (eth1, or systemd's enx&lt;MAC&gt;)
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
        String firewall,
        String sshService,
        String userWizard,
        String usbNicNames) {

    /** cloud-init must enable and start sshd (as Raspberry Pi Imager does). */
    public boolean sshNeedsEnabling() {
        return "disabled".equals(sshService);
    }

    /** The first-boot user wizard must be answered by a {@code userconf.txt} on the boot partition. */
    public boolean needsUserconf() {
        return "userconf".equals(userWizard);
    }

    /** USB Ethernet adapters get MAC-based names, so a plan's eth1 must be matched and renamed. */
    public boolean usbNicsNamedByMac() {
        return "mac".equals(usbNicNames);
    }
}
