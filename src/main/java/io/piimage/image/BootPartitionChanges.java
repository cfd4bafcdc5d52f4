package io.piimage.image;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * What to change in a boot partition: files to create or replace (in order; parent directories are
 * created) and text edits of files already there (cmdline.txt, config.txt), decided by the caller.
 *
 * @param files        path on the partition ('/'-separated) to content; the arrays are not copied, do not
 *                     change them afterwards
 * @param textEdits    path of an existing UTF-8 text file to its edit; a path may not be in both maps
 * @param editsNeeding path of an edit to a file that must be on the base's partition for the edit to be
 *                     made; without it the edit is skipped (e.g. config.txt's {@code kernel=kernel8.img}
 *                     only where the base ships kernel8.img: Ubuntu boots vmlinuz and has none)
 */
public record BootPartitionChanges(Map<String, byte[]> files, Map<String, UnaryOperator<String>> textEdits,
                                   Map<String, String> editsNeeding) {

    public BootPartitionChanges {
        files = Collections.unmodifiableMap(new LinkedHashMap<>(files));
        textEdits = Collections.unmodifiableMap(new LinkedHashMap<>(textEdits));
        editsNeeding = Map.copyOf(editsNeeding);
        for (String edited : textEdits.keySet()) {
            for (String written : files.keySet()) {
                if (normalize(edited).equalsIgnoreCase(normalize(written))) {
                    throw new IllegalArgumentException("'" + edited + "' is both written and edited; do one");
                }
            }
        }
        for (String edited : editsNeeding.keySet()) {
            if (!textEdits.containsKey(edited)) {
                throw new IllegalArgumentException("'" + edited + "' needs a file but is not edited");
            }
        }
    }

    public BootPartitionChanges(Map<String, byte[]> files, Map<String, UnaryOperator<String>> textEdits) {
        this(files, textEdits, Map.of());
    }

    public static BootPartitionChanges files(Map<String, byte[]> files) {
        return new BootPartitionChanges(files, Map.of());
    }

    static String normalize(String path) {
        return path.replaceAll("/+", "/").replaceAll("^/|/$", "");
    }
}
