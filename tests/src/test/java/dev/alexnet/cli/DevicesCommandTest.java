package dev.alexnet.cli;

import dev.alexnet.nativ.cuda.Cuda;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code bin/alexnet devices}: every backend with what it found, or why it is unavailable, without a crash. */
class DevicesCommandTest {
    /** The block of lines for one kind: its header line and the indented details below it. */
    static List<String> block(String out, String kind) {
        List<String> lines = Arrays.asList(out.split("\n"));
        int at = -1;
        for (int i = 0; i < lines.size(); i++) if (lines.get(i).startsWith(kind + " ")) at = i;
        assertTrue(at >= 0, "no line for " + kind + " in:\n" + out);
        int end = at + 1;
        while (end < lines.size() && lines.get(end).startsWith("      ")) end++;
        return lines.subList(at, end);
    }

    @Test
    void listsEveryBackendWithWhatItFound() {
        Cli.Result r = Cli.run("devices").succeeds();
        String out = r.out();
        for (String kind : List.of("java", "ref", "dnnl", "cuda", "ort")) {
            List<String> b = block(out, kind);
            assertTrue(b.get(0).contains("available"), b.get(0));
            assertTrue(b.size() >= 2, "no details for " + kind + ": " + b);
        }
        String java = String.join("\n", block(out, "java"));
        int lanes = FloatVector.SPECIES_PREFERRED.length();
        assertTrue(java.contains("available") && java.contains("Vector API preferred species") && java.contains(lanes + " float lanes"), java);
        assertTrue(java.contains("CPU features:"), java);
        String dnnl = String.join("\n", block(out, "dnnl"));
        assertTrue(dnnl.contains("oneDNN 3.") && dnnl.contains("ISA in use:"), dnnl);
        assertTrue(String.join("\n", block(out, "ort")).contains("ONNX Runtime 1."), out);
        String cuda = String.join("\n", block(out, "cuda"));
        if (Cuda.available()) {
            assertTrue(cuda.startsWith("cuda  available") && cuda.contains("GPU 0:") && cuda.contains("cuDNN") && cuda.contains("cuBLAS"), cuda);
        } else {
            assertTrue(cuda.startsWith("cuda  unavailable"), cuda); // here: no driver, said with the reason and no stack trace
            assertTrue(block(out, "cuda").get(1).strip().length() > 10, cuda);
        }
        assertEquals("", r.err().strip().replaceAll("(?m)^WARNING.*$", "").strip(), "stderr: " + r.err());
    }
}
