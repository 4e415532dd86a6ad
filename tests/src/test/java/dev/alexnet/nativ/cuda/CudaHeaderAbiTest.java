package dev.alexnet.nativ.cuda;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestFactory;
import org.opentest4j.TestAbortedException;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every hand-written CUDA downcall ({@code cuda_h}, {@code cudnn_h}, {@code cublas_h}, {@code nvrtc_h}: each
 * {@code private static final MethodHandle NAME$MH}) against its prototype in the headers of a CUDA host: name,
 * parameter count, return and parameter kinds (I int and enums, J 64-bit integers, F float, D double, P pointers
 * and handles, V void) after resolving typedefs. A C pointer may be bound as a Java long (device pointers are
 * passed as long): both are one 64-bit integer register in the x86-64 System V ABI. The method type survives
 * without the libraries (a missing library binds a thrower of the same type), so the headers are all it needs.
 *
 * <p>Headers: the directories in {@code -Dalexnet.cuda.include=DIR:DIR}, else {@code $CUDA_HOME/include},
 * {@code /usr/local/cuda/include}, {@code /usr/include} and {@code /usr/include/x86_64-linux-gnu}. A library whose
 * headers are not there is skipped (this machine has none); tagged gpu, so {@code make test-gpu} runs it.
 * The C reader is the one of the oneDNN ABI test, extended for these headers' API macros (all-caps words dropped).
 */
@Tag("gpu")
class CudaHeaderAbiTest {
    /** Headers per binding class; cuda_runtime types the library headers use come from driver_types.h and library_types.h. */
    static final Map<Class<?>, List<String>> HEADERS = Map.of(
            cuda_h.class, List.of("cuda.h"),
            cudnn_h.class, List.of("driver_types.h", "library_types.h", "cudnn_version.h", "cudnn_graph.h", "cudnn_ops.h", "cudnn_cnn.h", "cudnn.h"),
            cublas_h.class, List.of("driver_types.h", "library_types.h", "cublas_api.h"),
            nvrtc_h.class, List.of("nvrtc.h"));
    /** The header whose absence skips a library. */
    static final Map<Class<?>, String> MAIN = Map.of(cuda_h.class, "cuda.h", cudnn_h.class, "cudnn.h", cublas_h.class, "cublas_api.h", nvrtc_h.class, "nvrtc.h");

    static List<Path> includeDirs() {
        List<Path> dirs = new ArrayList<>();
        String prop = System.getProperty("alexnet.cuda.include");
        if (prop != null && !prop.isBlank()) {
            for (String d : prop.split(":")) dirs.add(Path.of(d));
            return dirs;
        }
        String home = System.getenv("CUDA_HOME");
        if (home != null) dirs.add(Path.of(home, "include"));
        dirs.addAll(List.of(Path.of("/usr/local/cuda/include"), Path.of("/usr/include"), Path.of("/usr/include/x86_64-linux-gnu")));
        return dirs;
    }

    static Path find(String header) {
        for (Path d : includeDirs()) if (Files.isRegularFile(d.resolve(header))) return d.resolve(header);
        return null;
    }

    @TestFactory
    Stream<DynamicTest> everyDowncallMatchesItsPrototype() {
        return Stream.of(cuda_h.class, cudnn_h.class, cublas_h.class, nvrtc_h.class).map(c -> DynamicTest.dynamicTest(c.getSimpleName(), () -> {
            if (find(MAIN.get(c)) == null) {
                String why = MAIN.get(c) + " not found in " + includeDirs() + " (set -Dalexnet.cuda.include)";
                // on a host declared to have CUDA (make test-gpu), missing headers are a broken set-up, not a skip
                if (Boolean.getBoolean("alexnet.gpu")) throw new AssertionError(why);
                throw new TestAbortedException(why);
            }
            CHeaders h = new CHeaders();
            for (String name : HEADERS.get(c)) {
                Path p = find(name);
                if (p != null) h.add(Files.readString(p));
            }
            h.parse();
            Map<String, MethodType> bound = downcalls(c);
            assertTrue(bound.size() >= 5, c.getSimpleName() + ": downcalls found " + bound.size());
            int checked = 0;
            for (var e : bound.entrySet()) {
                String name = e.getKey();
                List<Character> proto = h.prototypes.get(name);
                if (proto == null) proto = h.prototypes.get(name + "_v2");
                assertNotNull(proto, c.getSimpleName() + "." + name + " is bound but has no prototype in " + HEADERS.get(c));
                assertTrue(!proto.contains('?'), name + ": the reader could not type its prototype " + proto);
                List<Character> java = kinds(e.getValue());
                assertEquals(proto.size(), java.size(), name + ": parameter count, C " + proto + " vs Java " + java);
                for (int i = 0; i < proto.size(); i++) {
                    char want = proto.get(i), got = java.get(i);
                    boolean ok = want == got || (want == 'P' && got == 'J');
                    assertTrue(ok, name + (i == 0 ? ": return" : ": parameter " + i) + " is " + got + " in Java, " + want + " in C ([return, params...] C "
                            + proto + ", Java " + java + ")");
                }
                checked++;
            }
            System.out.println("[cuda headers] " + c.getSimpleName() + ": " + checked + " downcalls match their prototypes");
        }));
    }

    /** NAME -> method type of every {@code static final MethodHandle NAME$MH} field. */
    static Map<String, MethodType> downcalls(Class<?> c) throws IllegalAccessException {
        Map<String, MethodType> out = new HashMap<>();
        for (Field f : c.getDeclaredFields()) {
            if (f.getType() != MethodHandle.class || !Modifier.isStatic(f.getModifiers()) || !f.getName().endsWith("$MH")) continue;
            f.setAccessible(true);
            out.put(f.getName().substring(0, f.getName().length() - 3), ((MethodHandle) f.get(null)).type());
        }
        return out;
    }

    static List<Character> kinds(MethodType t) {
        List<Character> k = new ArrayList<>();
        k.add(kind(t.returnType()));
        for (Class<?> p : t.parameterList()) k.add(kind(p));
        return k;
    }

    static char kind(Class<?> c) {
        if (c == int.class) return 'I';
        if (c == long.class) return 'J';
        if (c == float.class) return 'F';
        if (c == double.class) return 'D';
        if (c == void.class) return 'V';
        if (c == MemorySegment.class) return 'P';
        return '?';
    }

    /** A small C declaration reader: typedefs, enums and prototypes, after comments and preprocessor lines are dropped. */
    static final class CHeaders {
        final StringBuilder text = new StringBuilder();
        final Map<String, Character> kinds = new HashMap<>();
        final Map<String, String> aliases = new HashMap<>();
        final Map<String, List<Character>> prototypes = new HashMap<>();

        void add(String header) { text.append(header).append('\n'); }

        void parse() {
            String t = text.toString().replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("//[^\n]*", " ");
            t = t.replaceAll("(?m)^\\s*#[^\n]*(\\\\\n[^\n]*)*", " ").replaceAll("__attribute__\\s*\\(\\(.*?\\)\\)", " ")
                    .replaceAll("extern\\s+\"C\"", " ").replaceAll("\\b\\w*DEPRECATED\\w*\\b", " ").replaceAll("\\s+", " ");
            for (String s : List.of("int", "unsigned", "unsigned int", "signed int", "int32_t", "uint32_t", "short", "unsigned short", "char", "unsigned char")) kinds.put(s, 'I');
            for (String s : List.of("size_t", "int64_t", "uint64_t", "long", "unsigned long", "long long", "unsigned long long", "__int64", "unsigned __int64")) kinds.put(s, 'J');
            kinds.put("float", 'F');
            kinds.put("double", 'D');
            kinds.put("void", 'V');
            // Runtime types the library headers use, for a host where driver_types.h / library_types.h are elsewhere.
            for (String s : List.of("cudaStream_t", "cudaEvent_t")) kinds.put(s, 'P');
            for (String s : List.of("cudaDataType", "cudaDataType_t", "libraryPropertyType", "libraryPropertyType_t")) kinds.put(s, 'I');

            Matcher e = Pattern.compile("typedef enum\\s*\\w*\\s*\\{.*?\\}\\s*(\\w+)\\s*;").matcher(t);
            while (e.find()) kinds.put(e.group(1), 'I');
            Matcher en = Pattern.compile("typedef enum (\\w+) (\\w+) ?;").matcher(t);
            while (en.find()) kinds.put(en.group(2), 'I');
            Matcher st = Pattern.compile("typedef struct\\s*\\w*\\s*\\{.*?\\}\\s*(\\w+)\\s*;").matcher(t);
            while (st.find()) kinds.put(st.group(1), 'S');
            Matcher p = Pattern.compile("typedef (?:const )?struct \\w+ ?\\* ?(\\w+) ?;").matcher(t);
            while (p.find()) kinds.put(p.group(1), 'P');
            Matcher a = Pattern.compile("typedef ((?:(?:unsigned|signed|long|short|const) )*\\w+) (\\w+) ?;").matcher(t);
            while (a.find()) if (!a.group(1).startsWith("struct") && !a.group(1).startsWith("enum")) aliases.put(a.group(2), a.group(1));

            Pattern proto = Pattern.compile("^(.*?)\\b(\\w+)\\s*\\((.*)\\)\\s*$");
            for (String stmt : t.split(";")) {
                String s = stmt.replaceAll("^.*[{}]", "").trim();
                if (s.startsWith("typedef") || !s.contains("(")) continue;
                Matcher f = proto.matcher(s);
                if (!f.matches() || f.group(1).isBlank()) continue;
                List<Character> sig = new ArrayList<>();
                sig.add(kindOf(f.group(1), false));
                String params = f.group(3).trim();
                if (!params.equals("void") && !params.isEmpty()) {
                    for (String param : params.split(",")) sig.add(kindOf(param, true));
                }
                prototypes.putIfAbsent(f.group(2), sig);
            }
        }

        /** The kind of a declaration, API macros (all-caps words) dropped; {@code param}: a trailing name is dropped. */
        char kindOf(String decl, boolean param) {
            if (decl.contains("(")) return '?'; // a function pointer: not bound here
            if (decl.contains("*") || decl.contains("[")) return 'P';
            List<String> tokens = new ArrayList<>();
            for (String tok : decl.trim().split("\\s+")) {
                if (tok.isEmpty() || tok.equals("const") || tok.equals("extern") || tok.equals("static") || tok.equals("inline")) continue;
                if (tok.length() > 1 && tok.matches("[A-Z_][A-Z0-9_]*")) continue; // CUDAAPI, CUDNNWINAPI, CUBLASAPI, ...
                tokens.add(tok);
            }
            if (param && tokens.size() > 1 && !(tokens.size() == 2 && Set.of("int", "long", "short", "char").contains(tokens.getLast())
                    && Set.of("unsigned", "signed", "long").contains(tokens.getFirst()))) {
                tokens.removeLast();
            }
            String type = String.join(" ", tokens);
            Set<String> seen = new LinkedHashSet<>();
            while (seen.add(type)) {
                Character k = kinds.get(type);
                if (k != null) return k;
                String next = aliases.get(type);
                if (next == null) break;
                type = next;
            }
            return '?';
        }
    }
}
