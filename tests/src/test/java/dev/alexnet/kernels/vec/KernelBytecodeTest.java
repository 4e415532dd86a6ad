package dev.alexnet.kernels.vec;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.CodeElement;
import java.lang.classfile.MethodModel;
import java.lang.classfile.instruction.FieldInstruction;
import java.lang.classfile.instruction.InvokeInstruction;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernels module's bytecode uses no operation whose interpreter fallback touches a heap segment
 * (see {@link Preload}): the Vector API's reinterpret casts write the vector into a heap byte segment and
 * read it back, and a heap segment read or written anywhere puts {@code HeapMemorySegmentImpl} into the
 * JDK accessors' shared type profile, after which C2 compiles the convolution tiles 3-4x slower. Nor
 * may a kernel make heap segments ({@code MemorySegment.ofArray}, {@code toArray}); only Preload
 * creates them, untouched, to load their classes early.
 */
class KernelBytecodeTest {
    private static final String VECTOR_PKG = "jdk/incubator/vector/";

    private static String forbidden(ClassModel cls, CodeElement e) {
        if (e instanceof InvokeInstruction inv) {
            String owner = inv.owner().asInternalName(), name = inv.name().stringValue();
            if (owner.startsWith(VECTOR_PKG) && (name.startsWith("reinterpret") || name.startsWith("viewAs")))
                return owner + "." + name;
            boolean preload = cls.thisClass().asInternalName().equals("dev/alexnet/kernels/vec/Preload");
            if (owner.equals("java/lang/foreign/MemorySegment") && (name.equals("ofArray") || name.equals("toArray")) && !preload)
                return owner + "." + name;
        }
        if (e instanceof FieldInstruction f && f.owner().asInternalName().equals(VECTOR_PKG + "VectorOperators")
                && f.name().stringValue().startsWith("REINTERPRET")) {
            return "VectorOperators." + f.name().stringValue();
        }
        return null;
    }

    @Test
    void noHeapSegmentFallbacksInKernels() throws Exception {
        Path root = Path.of(ConvVec.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> found = new ArrayList<>();
        int classes = 0;
        try (FileSystem jar = Files.isDirectory(root) ? null : FileSystems.newFileSystem(root);
             Stream<Path> files = Files.walk(jar == null ? root : jar.getPath("/"))) {
            for (Path p : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".class"))::iterator) {
                ClassModel cls = ClassFile.of().parse(read(p));
                classes++;
                for (MethodModel m : cls.methods()) {
                    m.code().ifPresent(code -> {
                        for (CodeElement e : code) {
                            String what = forbidden(cls, e);
                            if (what != null) found.add(cls.thisClass().asInternalName() + "." + m.methodName() + " uses " + what);
                        }
                    });
                }
            }
        }
        assertTrue(classes > 20, "scanned only " + classes + " classes under " + root);
        assertEquals(List.of(), found, "operations whose interpreter fallback touches heap segments (see Preload)");
    }

    /** What the rule must catch, compiled here: the scan of this class finds both uses. */
    static final class Offender {
        static float bits(jdk.incubator.vector.FloatVector v, float[] a) {
            return v.reinterpretAsInts().lane(0) + java.lang.foreign.MemorySegment.ofArray(a).byteSize();
        }
    }

    @Test
    void scanCatchesReinterpretAndHeapSegments() throws Exception {
        byte[] bytes;
        try (var in = Offender.class.getResourceAsStream("KernelBytecodeTest$Offender.class")) {
            bytes = in.readAllBytes();
        }
        ClassModel cls = ClassFile.of().parse(bytes);
        List<String> found = cls.methods().stream().flatMap(m -> m.code().stream()).flatMap(c -> c.elementStream())
                .map(e -> forbidden(cls, e)).filter(w -> w != null).toList();
        assertEquals(List.of("jdk/incubator/vector/FloatVector.reinterpretAsInts", "java/lang/foreign/MemorySegment.ofArray"), found);
    }

    private static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
