package dev.alexnet.model.caffe;

import dev.alexnet.model.io.WeightFileException;
import dev.alexnet.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.alexnet.model.caffe.ProtoReader.FIXED32;
import static dev.alexnet.model.caffe.ProtoReader.FIXED64;
import static dev.alexnet.model.caffe.ProtoReader.LEN;
import static dev.alexnet.model.caffe.ProtoReader.VARINT;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * The layers of a Caffe {@code NetParameter} (caffe.proto): their names, types, LRN parameters and
 * where their blobs' values lie in the file, read in one pass that keeps only positions; the values are
 * copied later, straight into tensors of the expected shape ({@link #read}). Both encodings Caffe has
 * written are understood: {@code layer} (field 100, {@code LayerParameter}, type a string) and the
 * legacy {@code layers} (field 2, {@code V1LayerParameter}, type an enum), as are blob shapes as
 * {@code BlobShape} or as legacy num/channels/height/width, and values as packed or unpacked floats or
 * doubles.
 */
final class CaffeModel {
    /** LRNParameter as written, with caffe.proto's defaults. */
    record Lrn(int localSize, float alpha, float beta, float k, int normRegion) {
        static final Lrn DEFAULT = new Lrn(5, 1f, 0.75f, 1f, 0);
    }

    /** One stretch of a blob's values: packed (bytes at {@code pos}) or unpacked (tag + value records from {@code pos}). */
    record Run(long pos, long count, boolean packed, boolean doubles) {}

    /** A blob: its dimensions as written and where its values are. */
    record Blob(long[] dims, List<Run> runs, long count) {
        String shape() { return Arrays.toString(dims); }

        /** The dimensions without leading 1s (legacy 4-D shapes pad fully connected weights as 1x1xMxN). */
        long[] squeezed() {
            int i = 0;
            while (i < dims.length - 1 && dims[i] == 1) i++;
            return Arrays.copyOfRange(dims, i, dims.length);
        }
    }

    /** @param transposed InnerProductParameter.transpose: weights stored (in, out) */
    record Layer(String name, String type, List<Blob> blobs, Lrn lrn, boolean transposed) {}

    final List<Layer> layers;
    final boolean legacy;

    private CaffeModel(List<Layer> layers, boolean legacy) {
        this.layers = layers;
        this.legacy = legacy;
    }

    /** Parses a {@code NetParameter} (a {@code .caffemodel}): every layer, without copying blob values. */
    static CaffeModel parseNet(ProtoReader in) {
        List<Layer> layers = new ArrayList<>();
        boolean sawNew = false, sawLegacy = false;
        while (!in.atLimit()) {
            int tag = in.tag();
            switch (ProtoReader.field(tag)) {
                case 100 -> {
                    in.expect(tag, LEN, "NetParameter.layer");
                    sawNew = true;
                    layers.add(layer(in, false));
                }
                case 2 -> {
                    in.expect(tag, LEN, "NetParameter.layers");
                    sawLegacy = true;
                    layers.add(layer(in, true));
                }
                default -> in.skip(tag);
            }
        }
        if (sawNew && sawLegacy) throw in.error("the net has both 'layer' and legacy 'layers' fields (Caffe refuses such files too)");
        if (layers.isEmpty()) throw in.error("no layers (a .caffemodel is a NetParameter with 'layer' or 'layers' fields)");
        return new CaffeModel(layers, sawLegacy);
    }

    /** Parses a file that is one {@code BlobProto} (a {@code .binaryproto} mean file). */
    static Blob parseBlobFile(ProtoReader in) {
        if (in.size() == 0) throw in.error("the file is empty");
        return blobBody(in, "the mean file's BlobProto");
    }

    private static Layer layer(ProtoReader in, boolean legacy) {
        long start = in.position();
        long old = in.pushLimit(in.length(legacy ? "a legacy layer" : "a layer"), legacy ? "a legacy layer" : "a layer");
        String name = null, type = null;
        List<Blob> blobs = new ArrayList<>();
        Lrn lrn = null;
        boolean transposed = false;
        int nameField = legacy ? 4 : 1, blobField = legacy ? 6 : 7, lrnField = legacy ? 18 : 118, ipField = legacy ? 17 : 117;
        while (!in.atLimit()) {
            int tag = in.tag();
            int f = ProtoReader.field(tag);
            if (f == nameField) {
                in.expect(tag, LEN, "layer name");
                name = in.string("layer name");
            } else if (!legacy && f == 2) {
                in.expect(tag, LEN, "layer type");
                type = in.string("layer type");
            } else if (legacy && f == 5) {
                in.expect(tag, VARINT, "legacy layer type");
                type = v1Type(in.varint());
            } else if (f == blobField) {
                in.expect(tag, LEN, "layer blob");
                String what = "blob " + blobs.size() + " of layer '" + (name == null ? "?" : name) + "'";
                long o = in.pushLimit(in.length(what), what);
                blobs.add(blobBody(in, what));
                in.popLimit(o);
            } else if (f == lrnField) {
                in.expect(tag, LEN, "lrn_param");
                lrn = lrn(in);
            } else if (f == ipField) {
                in.expect(tag, LEN, "inner_product_param");
                transposed = transposed(in);
            } else if (legacy && f == 1) {
                throw in.error("layer at byte " + start + " is in Caffe's V0 format; upgrade the file with Caffe's tools/upgrade_net_proto_binary first");
            } else {
                in.skip(tag);
            }
        }
        in.popLimit(old);
        if (name == null) name = "(unnamed layer at byte " + start + ")";
        return new Layer(name, type == null ? "" : type, blobs, lrn, transposed);
    }

    /** The V1LayerParameter.LayerType values this converter looks at; others keep their number. */
    private static String v1Type(long t) {
        return switch ((int) t) {
            case 4 -> "Convolution";
            case 14 -> "InnerProduct";
            case 15 -> "LRN";
            case 17 -> "Pooling";
            case 18 -> "ReLU";
            case 6 -> "Dropout";
            default -> "V1 type " + t;
        };
    }

    private static boolean transposed(ProtoReader in) {
        long old = in.pushLimit(in.length("inner_product_param"), "inner_product_param");
        boolean t = false;
        while (!in.atLimit()) {
            int tag = in.tag();
            if (ProtoReader.field(tag) == 6) {
                in.expect(tag, VARINT, "inner_product_param.transpose");
                t = in.varint() != 0;
            } else {
                in.skip(tag);
            }
        }
        in.popLimit(old);
        return t;
    }

    private static Lrn lrn(ProtoReader in) {
        long old = in.pushLimit(in.length("lrn_param"), "lrn_param");
        Lrn d = Lrn.DEFAULT;
        int size = d.localSize(), region = d.normRegion();
        float alpha = d.alpha(), beta = d.beta(), k = d.k();
        while (!in.atLimit()) {
            int tag = in.tag();
            switch (ProtoReader.field(tag)) {
                case 1 -> { in.expect(tag, VARINT, "lrn_param.local_size"); size = (int) Math.min(in.varint(), Integer.MAX_VALUE); }
                case 2 -> { in.expect(tag, FIXED32, "lrn_param.alpha"); alpha = Float.intBitsToFloat(in.fixed32()); }
                case 3 -> { in.expect(tag, FIXED32, "lrn_param.beta"); beta = Float.intBitsToFloat(in.fixed32()); }
                case 4 -> { in.expect(tag, VARINT, "lrn_param.norm_region"); region = (int) in.varint(); }
                case 5 -> { in.expect(tag, FIXED32, "lrn_param.k"); k = Float.intBitsToFloat(in.fixed32()); }
                default -> in.skip(tag);
            }
        }
        in.popLimit(old);
        return new Lrn(size, alpha, beta, k, region);
    }

    /** The fields of a BlobProto up to the current limit: dimensions and the positions of its values. */
    private static Blob blobBody(ProtoReader in, String what) {
        long[] legacyDims = {0, 0, 0, 0};
        boolean legacySeen = false;
        long[] dims = null;
        List<Run> runs = new ArrayList<>();
        long count = 0;
        while (!in.atLimit()) {
            int tag = in.tag();
            int f = ProtoReader.field(tag);
            switch (f) {
                case 1, 2, 3, 4 -> {
                    in.expect(tag, VARINT, what + " num/channels/height/width");
                    legacyDims[f - 1] = (int) in.varint(); // int32 on the wire
                    legacySeen = true;
                }
                case 7 -> {
                    in.expect(tag, LEN, what + " shape");
                    dims = shape(in, what);
                }
                case 5, 8 -> {
                    boolean dbl = f == 8;
                    int width = dbl ? 8 : 4;
                    if (ProtoReader.wire(tag) == LEN) {
                        long at = in.position();
                        long n = in.length(what + (dbl ? " double_data" : " data"));
                        if (n % width != 0) throw in.error(what + ": packed " + (dbl ? "doubles" : "floats") + " at byte " + at + " span " + n + " bytes, not a multiple of " + width);
                        runs.add(new Run(in.position(), n / width, true, dbl));
                        in.seek(in.position() + n);
                        count += n / width;
                    } else {
                        in.expect(tag, dbl ? FIXED64 : FIXED32, what + (dbl ? " double_data" : " data"));
                        long recordStart = in.position() - 1; // the tag of a field below 16 is one byte
                        if (dbl) in.fixed64(); else in.fixed32();
                        Run last = runs.isEmpty() ? null : runs.getLast();
                        if (last != null && !last.packed() && last.doubles() == dbl && last.pos() + last.count() * (1 + width) == recordStart) {
                            runs.set(runs.size() - 1, new Run(last.pos(), last.count() + 1, false, dbl));
                        } else {
                            runs.add(new Run(recordStart, 1, false, dbl));
                        }
                        count++;
                    }
                }
                default -> in.skip(tag);
            }
        }
        if (dims == null) {
            if (!legacySeen) {
                dims = count == 0 ? new long[0] : new long[] {count};
            } else {
                for (long d : legacyDims) if (d < 0) throw in.error(what + ": negative legacy dimension in " + Arrays.toString(legacyDims));
                dims = legacyDims;
            }
        }
        return new Blob(dims, List.copyOf(runs), count);
    }

    private static long[] shape(ProtoReader in, String what) {
        long old = in.pushLimit(in.length(what + " shape"), what + " shape");
        List<Long> dims = new ArrayList<>();
        while (!in.atLimit()) {
            int tag = in.tag();
            if (ProtoReader.field(tag) != 1) {
                in.skip(tag);
                continue;
            }
            if (ProtoReader.wire(tag) == LEN) {
                long o = in.pushLimit(in.length(what + " shape dims"), what + " shape dims");
                while (!in.atLimit()) dims.add(in.varint());
                in.popLimit(o);
            } else {
                in.expect(tag, VARINT, what + " shape dim");
                dims.add(in.varint());
            }
            if (dims.size() > 32) throw in.error(what + " has more than 32 dimensions");
        }
        in.popLimit(old);
        long[] r = new long[dims.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = dims.get(i);
            if (r[i] < 0) throw in.error(what + ": negative dimension in shape " + dims);
        }
        return r;
    }

    /**
     * Copies {@code blob}'s values into a new tensor of {@code shape}, allocated only once the file is
     * known to hold exactly that many values; refuses any other shape or count with a message naming
     * {@code what}.
     */
    static Tensor read(ProtoReader in, Blob blob, int[] shape, Arena arena, String what) {
        long[] want = new long[shape.length];
        for (int i = 0; i < shape.length; i++) want[i] = shape[i];
        long expected = 1;
        for (int d : shape) expected *= d;
        long[] got = blob.squeezed();
        if (!Arrays.equals(got, squeeze(want))) {
            throw new WeightFileException(in.file() + ": " + what + " has shape " + blob.shape() + ", expected " + Arrays.toString(shape));
        }
        if (blob.count() != expected) {
            throw new WeightFileException(in.file() + ": " + what + " has shape " + blob.shape() + " but holds " + blob.count()
                    + " values (expected " + expected + "; the file is damaged)");
        }
        if (!ByteOrder.nativeOrder().equals(ByteOrder.LITTLE_ENDIAN)) throw new UnsupportedOperationException("big-endian hosts are not supported");
        Tensor t = Tensor.allocate(arena, shape);
        MemorySegment dst = t.data();
        long at = 0, back = in.position();
        for (Run r : blob.runs()) {
            if (r.packed() && !r.doubles()) {
                in.copy(r.pos(), dst.asSlice(at * Float.BYTES, r.count() * Float.BYTES)); // little-endian on the wire and here
            } else if (r.packed()) {
                readDoubles(in, r, dst, at);
            } else {
                readUnpacked(in, r, dst, at);
            }
            at += r.count();
        }
        in.seek(back);
        return t;
    }

    private static long[] squeeze(long[] d) {
        int i = 0;
        while (i < d.length - 1 && d[i] == 1) i++;
        return Arrays.copyOfRange(d, i, d.length);
    }

    private static void readDoubles(ProtoReader in, Run r, MemorySegment dst, long at) {
        final long chunk = 1 << 14;
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment b = tmp.allocate(chunk * Double.BYTES, 8);
            for (long i = 0; i < r.count(); i += chunk) {
                long n = Math.min(chunk, r.count() - i);
                in.copy(r.pos() + i * Double.BYTES, b.asSlice(0, n * Double.BYTES));
                for (long j = 0; j < n; j++) dst.setAtIndex(JAVA_FLOAT, at + i + j, (float) b.getAtIndex(JAVA_DOUBLE_UNALIGNED, j));
            }
        }
    }

    /** Unpacked values: one tag byte then 4 (float) or 8 (double) bytes each, as the first pass found them. */
    private static void readUnpacked(ProtoReader in, Run r, MemorySegment dst, long at) {
        in.seek(r.pos());
        for (long i = 0; i < r.count(); i++) {
            in.tag();
            float v = r.doubles() ? (float) Double.longBitsToDouble(in.fixed64()) : Float.intBitsToFloat(in.fixed32());
            dst.setAtIndex(JAVA_FLOAT, at + i, v);
        }
    }
}
