package dev.alexnet.fuzz;

import dev.alexnet.model.Images;
import dev.alexnet.model.io.Npy;
import dev.alexnet.model.io.Safetensors;
import dev.alexnet.model.io.WeightFileException;
import dev.alexnet.tensor.Tensor;
import dev.alexnet.train.data.Idx;
import dev.alexnet.train.data.ImageFolderDataset;
import dev.alexnet.train.data.NpyDataset;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The file readers under fuzzing. Each reads a file that the fuzzer wrote and either succeeds or refuses it
 * with the project's one-line error ({@link WeightFileException}, or an {@link IllegalArgumentException}
 * such as the training data's {@code DataException}); anything else (an unchecked exception of another
 * kind, an error such as OutOfMemoryError, a multi-line or empty message) is a finding.
 */
enum FuzzTarget {
    SAFETENSORS {
        @Override void read(Path file, Path scratch) {
            try (Arena a = Arena.ofConfined()) {
                Safetensors.read(file, a);
            }
        }
    },
    NPY {
        @Override void read(Path file, Path scratch) {
            try (Arena a = Arena.ofConfined()) {
                Npy.read(file, a);
            }
        }
    },
    /** The classify path: decode, then scale and crop into the network's input. */
    IMAGE {
        @Override void read(Path file, Path scratch) {
            BufferedImage img = Images.read(file, w -> {});
            try (Arena a = Arena.ofConfined()) {
                MemorySegment x = a.allocate(3L * 227 * 227 * Float.BYTES, 64);
                Images.preprocess(img, 227, x, 0);
            }
        }
    },
    /** The training image folder's decoder. */
    IMAGE_FOLDER {
        @Override void read(Path file, Path scratch) {
            ImageFolderDataset.decodeBase(file, 64);
        }
    },
    IDX {
        @Override void read(Path file, Path scratch) {
            try {
                Idx.readImages(file);
            } catch (IllegalArgumentException refused) {
                Idx.readLabels(file); // a labels file, perhaps: both refusals must be clean
            }
        }
    },
    /** An .npy training set: the fuzzed file as the images with valid labels, else as the labels with valid images. */
    NPY_DATASET {
        @Override void read(Path file, Path scratch) throws IOException {
            Path labels = scratch.resolve("labels.npy"), images = scratch.resolve("images.npy");
            if (!Files.exists(labels)) {
                Files.write(labels, npy("<i8", new long[] {2}, longBytes(0, 1)));
                Files.write(images, npy("<f4", new long[] {2, 3, 4, 4}, new byte[2 * 3 * 4 * 4 * 4]));
            }
            try (NpyDataset d = NpyDataset.open(file, labels)) {
                d.size();
            } catch (IllegalArgumentException | WeightFileException refused) {
                try (NpyDataset d = NpyDataset.open(images, file)) { // the labels, perhaps: both refusals must be clean
                    d.size();
                }
            }
        }
    };

    abstract void read(Path file, Path scratch) throws IOException;

    /** The folder of this target's committed corpus under tests/src/test/resources/fuzz. */
    String dir() { return name().toLowerCase().replace('_', '-'); }

    /** Whether {@code t}, thrown by {@link #read}, is a clean refusal. */
    static boolean clean(Throwable t) {
        if (!(t instanceof WeightFileException || t instanceof IllegalArgumentException || t instanceof UncheckedIOException)) return false;
        String m = t.getMessage();
        return m != null && !m.isBlank() && m.indexOf('\n') < 0 && m.length() < 2000;
    }

    /** Valid files to mutate: small versions of what each reader expects. */
    List<byte[]> seeds() throws IOException {
        return switch (this) {
            case SAFETENSORS -> List.of(safetensors(Map.of("a", new long[] {2, 3}, "b", new long[] {4})),
                    safetensors(Map.of("conv1.weight", new long[] {1, 1, 1, 1})));
            case NPY -> List.of(npy("<f4", new long[] {1, 3, 2, 2}, new byte[48]), npy("<f4", new long[] {2, 5}, new byte[40]));
            case IMAGE, IMAGE_FOLDER -> List.of(image("jpg", 24, 16), image("png", 12, 20), image("bmp", 9, 9), image("gif", 8, 6));
            case IDX -> List.of(idx(0x0803, new int[] {2, 3, 4}, 24), idx(0x0801, new int[] {5}, 5));
            case NPY_DATASET -> List.of(npy("<f4", new long[] {2, 3, 4, 4}, new byte[384]), npy("<i8", new long[] {2}, longBytes(1, 0)),
                    npy("<i4", new long[] {2}, new byte[8]));
        };
    }

    static byte[] safetensors(Map<String, long[]> shapes) {
        StringBuilder h = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long off = 0;
        for (var e : new LinkedHashMap<>(shapes).entrySet()) {
            long n = 4;
            for (long d : e.getValue()) n *= d;
            h.append(",\"").append(e.getKey()).append("\":{\"dtype\":\"F32\",\"shape\":").append(java.util.Arrays.toString(e.getValue()).replace(" ", ""))
                    .append(",\"data_offsets\":[").append(off).append(',').append(off + n).append("]}");
            off += n;
        }
        h.append('}');
        byte[] header = h.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + (int) off).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header);
        for (int i = 0; i < off / 4; i++) b.putFloat(i * 0.5f);
        return b.array();
    }

    static byte[] npy(String descr, long[] shape, byte[] data) {
        StringBuilder s = new StringBuilder("(");
        for (long d : shape) s.append(d).append(", ");
        if (shape.length > 1) s.setLength(s.length() - 2);
        else if (shape.length == 1) s.setLength(s.length() - 1);
        s.append(')');
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + s + ", }";
        int total = 10 + dict.length() + 1;
        int pad = (64 - total % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0).putShort((short) header.length());
        b.put(header.getBytes(StandardCharsets.US_ASCII)).put(data);
        return b.array();
    }

    static byte[] longBytes(long... v) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long x : v) b.putLong(x);
        return b.array();
    }

    static byte[] idx(int magic, int[] dims, int payload) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + payload).order(ByteOrder.BIG_ENDIAN);
        b.putInt(magic);
        for (int d : dims) b.putInt(d);
        for (int i = 0; i < payload; i++) b.put((byte) (i * 37));
        return b.array();
    }

    static byte[] image(String format, int w, int h) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, (x * 40) << 16 | (y * 30) << 8 | ((x + y) * 20 & 0xff));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(img, format, out)) throw new IOException("no writer for " + format);
        return out.toByteArray();
    }
}
