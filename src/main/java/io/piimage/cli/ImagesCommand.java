package io.piimage.cli;

import io.piimage.image.ImageProfile;
import io.piimage.image.ImageProfiles;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(
        name = "images",
        mixinStandardHelpOptions = true,
        description = {"Lists the base-image profiles a plan may name in os.image."},
        footer = {"", "Examples:", "  piimage images", "", "Exit codes: 0 listed, 2 usage error."})
final class ImagesCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        ImageProfiles profiles = ImageProfiles.packaged();
        out.printf("%-16s %-8s %-13s %-15s %s%n", "NAME", "USER", "BOOT LABEL", "BOOT MOUNT", "DESCRIPTION");
        for (String name : profiles.names()) {
            ImageProfile p = profiles.get(name);
            out.printf("%-16s %-8s %-13s %-15s %s%n", p.name(), p.defaultUser(), p.bootLabel(), p.bootMountPoint(), p.description());
        }
        out.flush();
        return Main.OK;
    }
}
