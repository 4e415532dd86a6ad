package dev.alexnet.nativ.dnnl;

import dev.alexnet.nativ.dnnl.raw.dnnl_exec_arg_t;
import dev.alexnet.nativ.dnnl.raw.dnnl_h;
import dev.alexnet.nativ.dnnl.raw.dnnl_version_t;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.AddressLayout;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hand-written raw layer against the C headers shipped in the carrier jar
 * ({@code org/bytedeco/dnnl/linux-x86_64/include/oneapi/dnnl/*.h} on the test class path): every
 * bound function's name, parameter count, parameter kinds and return kind (int / int64 / float /
 * pointer, after resolving typedefs and enums), every {@code int} constant of {@link dnnl_h}
 * (enumerators and {@code #define}s), and the field offsets of the two structs we lay out.
 *
 * <p>A small C declaration reader, enough for these headers: comments and preprocessor lines are
 * dropped, then typedefs, enums and {@code DNNL_API} prototypes are matched by regular expressions.
 * The two {@code omp_*} functions come from libgomp, which ships no header here; they are not checked.
 */
class DnnlHeaderAbiTest {
    static final String INCLUDE = "org/bytedeco/dnnl/linux-x86_64/include/oneapi/dnnl/";
    static final List<String> HEADERS = List.of("dnnl_common_types.h", "dnnl_types.h", "dnnl_common.h", "dnnl.h");

    /** Kinds of C types as FFM sees them: I = 32-bit int, J = 64-bit int, F = float, P = pointer, V = void, S = struct by value. */
    static final Map<String, Character> kinds = new HashMap<>();
    static final Map<String, String> aliases = new HashMap<>();
    static final Map<String, Long> constants = new HashMap<>();
    static final Map<String, String> defines = new LinkedHashMap<>();
    static final Map<String, String> structBodies = new HashMap<>();
    /** name -> [return kind, parameter kinds...] */
    static final Map<String, List<Character>> prototypes = new HashMap<>();

    @BeforeAll
    static void readHeaders() throws IOException {
        StringBuilder all = new StringBuilder();
        for (String h : HEADERS) {
            try (InputStream in = DnnlHeaderAbiTest.class.getClassLoader().getResourceAsStream(INCLUDE + h)) {
                assertNotNull(in, "header " + INCLUDE + h + " not on the test class path (it comes with " + DnnlLibrary.COORDINATES + ")");
                all.append(new String(in.readAllBytes(), StandardCharsets.UTF_8)).append('\n');
            }
        }
        String text = all.toString().replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("//[^\n]*", " ");
        // #define NAME value, with value an integer literal or another name
        Matcher d = Pattern.compile("(?m)^\\s*#\\s*define\\s+(\\w+)\\s+\\(?\\s*(-?(?:0x[0-9a-fA-F]+|\\d+)[uU]?|[A-Za-z_]\\w*)\\s*\\)?\\s*$").matcher(text);
        while (d.find()) defines.put(d.group(1), d.group(2));
        text = text.replaceAll("(?m)^\\s*#[^\n]*(\\\\\n[^\n]*)*", " ").replaceAll("\\s+", " ");

        for (String t : List.of("int", "unsigned", "unsigned int", "int32_t", "uint32_t")) kinds.put(t, 'I');
        for (String t : List.of("size_t", "int64_t", "uint64_t", "long", "unsigned long")) kinds.put(t, 'J');
        kinds.put("float", 'F');
        kinds.put("void", 'V');

        Matcher e = Pattern.compile("typedef enum\\s*\\w*\\s*\\{(.*?)\\}\\s*(\\w+)\\s*;").matcher(text);
        while (e.find()) {
            kinds.put(e.group(2), 'I');
            Long prev = -1L;
            for (String item : e.group(1).split(",")) {
                item = item.trim();
                if (item.isEmpty()) continue;
                String[] nv = item.split("=", 2);
                String name = nv[0].trim();
                Long v = nv.length == 2 ? eval(nv[1].trim()) : (prev == null ? null : prev + 1);
                if (v != null) constants.put(name, v);
                prev = v;
            }
        }
        Matcher s = Pattern.compile("typedef struct\\s*\\w*\\s*\\{(.*?)\\}\\s*(\\w+)\\s*;").matcher(text);
        while (s.find()) {
            kinds.put(s.group(2), 'S');
            structBodies.put(s.group(2), s.group(1));
        }
        Matcher p = Pattern.compile("typedef (?:const )?struct \\w+ ?\\* ?(\\w+) ?;").matcher(text);
        while (p.find()) kinds.put(p.group(1), 'P');
        Matcher arr = Pattern.compile("typedef (\\w+) (\\w+) ?\\[[^\\]]*\\] ?;").matcher(text);
        while (arr.find()) kinds.put(arr.group(2), 'P'); // arrays decay to pointers as parameters
        Matcher a = Pattern.compile("typedef (\\w+) (\\w+) ?;").matcher(text);
        while (a.find()) aliases.put(a.group(2), a.group(1));

        for (String stmt : text.split(";")) {
            Matcher f = Pattern.compile("^(.*?)\\bDNNL_API\\b\\s*(\\**)\\s*(\\w+)\\s*\\((.*)\\)\\s*$").matcher(stmt.trim());
            if (!f.matches()) continue;
            String ret = f.group(1).replaceAll("^.*[{}]", "").trim() + f.group(2);
            List<Character> sig = new ArrayList<>();
            try {
                sig.add(kindOf(ret, false));
                String params = f.group(4).trim();
                if (!params.equals("void") && !params.isEmpty()) {
                    for (String param : params.split(",")) sig.add(kindOf(param.trim(), true));
                }
            } catch (AssertionError unknownType) {
                // A type this reader does not know (function pointers, ...): fine unless we bind the function.
                sig = List.of('?');
            }
            prototypes.put(f.group(3), sig);
        }
    }

    /** An enumerator's value: a literal, an earlier enumerator, or {@code a | b}; null when unknown. */
    static Long eval(String expr) {
        expr = expr.trim();
        if (expr.startsWith("(") && expr.endsWith(")")) expr = expr.substring(1, expr.length() - 1).trim();
        if (expr.contains("|")) {
            long v = 0;
            for (String part : expr.split("\\|")) {
                Long x = eval(part);
                if (x == null) return null;
                v |= x;
            }
            return v;
        }
        Matcher shift = Pattern.compile("(\\w+)\\s*<<\\s*(\\w+)").matcher(expr);
        if (shift.matches()) {
            Long l = eval(shift.group(1)), r = eval(shift.group(2));
            return l == null || r == null ? null : l << r;
        }
        String lit = expr.replaceAll("[uUlL]+$", "");
        try {
            if (lit.startsWith("0x") || lit.startsWith("0X")) return Long.parseLong(lit.substring(2), 16);
            return Long.parseLong(lit);
        } catch (NumberFormatException notLiteral) {
            if (constants.containsKey(expr)) return constants.get(expr);
            if (defines.containsKey(expr) && !defines.get(expr).equals(expr)) return eval(defines.get(expr));
            return null;
        }
    }

    /** The FFM kind of a declaration ({@code param}: a trailing parameter name is dropped). */
    static char kindOf(String decl, boolean param) {
        if (decl.contains("*")) return 'P';
        List<String> tokens = new ArrayList<>(List.of(decl.replaceAll("\\bconst\\b", " ").trim().split("\\s+")));
        if (param && tokens.size() > 1) tokens.removeLast();
        String type = String.join(" ", tokens);
        for (int guard = 0; guard < 10; guard++) {
            Character k = kinds.get(type);
            if (k != null) return k;
            String next = aliases.get(type);
            if (next == null) break;
            type = next;
        }
        throw new AssertionError("unknown C type '" + type + "' in '" + decl + "'");
    }

    static char kindOf(MemoryLayout l) {
        return switch (l) {
            case AddressLayout x -> 'P';
            case ValueLayout.OfInt x -> 'I';
            case ValueLayout.OfLong x -> 'J';
            case ValueLayout.OfFloat x -> 'F';
            default -> '?';
        };
    }

    @Test
    void everyBoundFunctionMatchesItsPrototype() {
        Map<String, FunctionDescriptor> bound = dnnl_h.functions();
        assertTrue(bound.size() >= 30, "bindings registered: " + bound.size());
        assertTrue(prototypes.size() > 100, "prototypes read from the headers: " + prototypes.size());
        for (var e : bound.entrySet()) checkBinding(e.getKey(), e.getValue());
    }

    /** One binding against its prototype: name, parameter count, return kind, parameter kinds. */
    static void checkBinding(String name, FunctionDescriptor fd) {
        List<Character> c = prototypes.get(name);
        assertNotNull(c, name + " is bound but has no prototype in the headers");
        List<Character> java = new ArrayList<>();
        java.add(fd.returnLayout().map(DnnlHeaderAbiTest::kindOf).orElse('V'));
        for (MemoryLayout l : fd.argumentLayouts()) java.add(kindOf(l));
        assertEquals(c.size() - 1, fd.argumentLayouts().size(), name + ": parameter count");
        assertEquals(c.getFirst(), java.getFirst(), name + ": return type");
        assertEquals(c, java, name + ": parameter kinds [return, params...]");
    }

    /** The creators the training program calls (its forward-training primitives reuse the forward creators). */
    static final List<String> TRAINING_FUNCTIONS = List.of(
            "dnnl_convolution_backward_data_primitive_desc_create",
            "dnnl_convolution_backward_weights_primitive_desc_create",
            "dnnl_inner_product_backward_data_primitive_desc_create",
            "dnnl_inner_product_backward_weights_primitive_desc_create",
            "dnnl_pooling_backward_primitive_desc_create",
            "dnnl_lrn_backward_primitive_desc_create",
            "dnnl_eltwise_forward_primitive_desc_create",
            "dnnl_eltwise_backward_primitive_desc_create");

    @Test
    void trainingFunctionsAreBoundAndMatchTheirPrototypes() {
        Map<String, FunctionDescriptor> bound = dnnl_h.functions();
        for (String name : TRAINING_FUNCTIONS) {
            assertNotNull(bound.get(name), name + " is not bound");
            checkBinding(name, bound.get(name));
        }
        // The reader itself, on the two with scalar parameters: dnnl_dim_t local_size is int64, alpha/beta/k float.
        assertEquals(List.of('I', 'P', 'P', 'I', 'P', 'P', 'P', 'J', 'F', 'F', 'F', 'P', 'P'), prototypes.get("dnnl_lrn_backward_primitive_desc_create"));
        assertEquals(List.of('I', 'P', 'P', 'I', 'P', 'P', 'P', 'F', 'F', 'P', 'P'), prototypes.get("dnnl_eltwise_backward_primitive_desc_create"));
        assertEquals(List.of('I', 'P', 'P', 'P', 'P', 'P', 'P', 'P', 'P'), prototypes.get("dnnl_inner_product_backward_weights_primitive_desc_create"));
    }

    @Test
    void everyConstantMatchesTheHeaders() throws IllegalAccessException {
        int checked = 0;
        for (Field f : dnnl_h.class.getFields()) {
            if (f.getType() != int.class || !Modifier.isStatic(f.getModifiers())) continue;
            String name = f.getName();
            Long want = constants.containsKey(name) ? constants.get(name) : defines.containsKey(name) ? eval(name) : null;
            assertNotNull(want, name + " is not an enumerator or #define in the headers (or its value could not be read)");
            assertEquals(want.intValue(), f.getInt(null), name);
            checked++;
        }
        assertTrue(checked >= 50, "constants checked: " + checked);
    }

    @Test
    void structLayoutsMatchTheHeaders() {
        checkStruct("dnnl_exec_arg_t", dnnl_exec_arg_t.LAYOUT);
        checkStruct("dnnl_version_t", dnnl_version_t.LAYOUT);
        assertEquals(16, dnnl_exec_arg_t.LAYOUT.byteSize());
        assertEquals(12 * 8, dnnl_h.DIMS_BYTES);
    }

    /** Natural C alignment on x86-64: each field at a multiple of its size; names and offsets must match ours. */
    static void checkStruct(String name, StructLayout layout) {
        String body = structBodies.get(name);
        assertNotNull(body, "struct " + name + " not found");
        long offset = 0, maxAlign = 1;
        for (String field : body.split(";")) {
            field = field.trim();
            if (field.isEmpty()) continue;
            char k = kindOf(field, true);
            long size = switch (k) { case 'I', 'F' -> 4; case 'J', 'P' -> 8; default -> throw new AssertionError(field); };
            offset = (offset + size - 1) / size * size;
            maxAlign = Math.max(maxAlign, size);
            String fieldName = field.replaceAll(".*[\\s*](\\w+)$", "$1");
            long javaOffset = layout.byteOffset(MemoryLayout.PathElement.groupElement(fieldName));
            assertEquals(offset, javaOffset, name + "." + fieldName + " offset");
            offset += size;
        }
        assertEquals((offset + maxAlign - 1) / maxAlign * maxAlign, layout.byteSize(), name + " size");
    }

    @Test
    void readerSanity() {
        assertEquals(List.of('I', 'P', 'P', 'I', 'P'), prototypes.get("dnnl_primitive_execute"));
        assertEquals('P', prototypes.get("dnnl_version").getFirst());
        assertEquals(0x1ffL, constants.get("dnnl_pooling_max"));
        assertFalse(prototypes.containsKey("DNNL_API"));
    }
}
