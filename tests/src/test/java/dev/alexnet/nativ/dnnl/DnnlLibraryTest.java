package dev.alexnet.nativ.dnnl;

import dev.alexnet.nativ.NativeLibraryException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Loading: the bundled library and its libgomp, the version, and clear errors for a bad override. */
class DnnlLibraryTest {
    @Test
    void bundledLibraryLoadsWithItsOwnLibgomp() {
        DnnlLibrary.Loaded lib = DnnlLibrary.load();
        assertTrue(lib.library().isAbsolute());
        assertEquals("3.13.0", DnnlDevice.version());
        assertEquals(2, Dnnl.cpuRuntime(), "OpenMP CPU runtime");
        if (!lib.overridden()) {
            List<Path> gomp = DnnlLibrary.mappedGomp();
            System.out.println("libdnnl: " + lib.library() + "; libgomp mapped from " + gomp + "; git " + Dnnl.gitHash());
            assertEquals(List.of(lib.library().resolveSibling(DnnlLibrary.GOMP)), gomp,
                    "RUNPATH $ORIGIN should make libdnnl take the libgomp extracted next to it");
        }
    }

    @Test
    void bogusOverridePathNamesThePathAndTheFix() {
        var e = assertThrows(NativeLibraryException.class, () -> DnnlLibrary.load("/no/such/dir/libdnnl.so.3"));
        assertTrue(e.getMessage().contains("/no/such/dir/libdnnl.so.3"), e.getMessage());
        assertTrue(e.getMessage().contains("unset it"), e.getMessage());
    }

    @Test
    void overrideThatIsNotALibrary(@TempDir Path dir) throws IOException {
        Path fake = Files.writeString(dir.resolve("libdnnl.so.3"), "not an ELF file");
        var e = assertThrows(NativeLibraryException.class, () -> DnnlLibrary.load(fake.toString()));
        assertTrue(e.getMessage().contains("could not load " + fake), e.getMessage());
        assertFalse(e.getMessage().isBlank());
    }

    @Test
    void threadCountIsPerCallingThread() throws Exception {
        try (DnnlDevice one = new DnnlDevice(1); DnnlDevice three = new DnnlDevice(3)) {
            int[] seen = new int[2];
            Thread a = Thread.ofPlatform().start(() -> {
                one.compile(List.of(dev.alexnet.device.Layer.of(new dev.alexnet.device.LayerSpec.Softmax("s", 4))), 1).close();
                seen[0] = Dnnl.threadsForCallingThread();
            });
            Thread b = Thread.ofPlatform().start(() -> {
                three.compile(List.of(dev.alexnet.device.Layer.of(new dev.alexnet.device.LayerSpec.Softmax("s", 4))), 1).close();
                seen[1] = Dnnl.threadsForCallingThread();
            });
            a.join();
            b.join();
            assertEquals(1, seen[0], "dnnl:1 thread's OpenMP team size");
            assertEquals(3, seen[1], "dnnl:3 thread's OpenMP team size");
            assertEquals("dnnl:1", one.name());
        }
    }
}
