package io.piimage.pipeline;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** The {@code xz} command (xz-utils): faster than any Java xz, and multi-threaded for compression. */
final class XzCommand {

    private XzCommand() {
    }

    /** {@code xz -dc input > output}: xz writes the holes of a sparse image itself. */
    static void decompress(Path input, Path output) throws IOException, BakeException {
        run(List.of("-dc", input.toString()), output, null, "decompressing " + input);
    }

    /** {@code xz -T0 -c input}, its output into {@code out} (which the caller closes). */
    static void compress(Path input, OutputStream out) throws IOException, BakeException {
        run(List.of("-T0", "-c", input.toString()), null, out, "compressing " + input.getFileName());
    }

    private static void run(List<String> args, Path outputFile, OutputStream out, String what) throws IOException, BakeException {
        List<String> command = new ArrayList<>(List.of("xz"));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.PIPE);
        if (outputFile != null) {
            builder.redirectOutput(outputFile.toFile());
        }
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new BakeException(what + " needs the 'xz' command (install xz-utils): " + e.getMessage(), e);
        }
        process.getOutputStream().close();
        // Read stderr beside stdout: a full stderr pipe would stall xz.
        CompletableFuture<String> stderr = CompletableFuture.supplyAsync(() -> read(process.getErrorStream()));
        try {
            if (out != null) {
                try (InputStream in = process.getInputStream()) {
                    in.transferTo(out);
                }
            }
            int exit = process.waitFor();
            if (exit != 0) {
                throw new BakeException(what + ": xz failed (exit " + exit + "): " + stderr.join());
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new BakeException(what + ": interrupted", e);
        } finally {
            process.destroy();
        }
    }

    private static String read(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return e.toString();
        }
    }
}
