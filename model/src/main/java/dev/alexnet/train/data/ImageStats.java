package dev.alexnet.train.data;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;

/**
 * Training-set statistics for {@link ImageFolderDataset}: the per-pixel mean image of the base-square images
 * ({@code meanImage}, float32 planes {@code [3, base, base]}, 0-255 scale) and the principal components of the RGB
 * pixel values over the whole training set (the paper's PCA colour augmentation): {@code eigenvalues} of the 3x3
 * covariance of pixel values <em>on the 0-1 scale</em>, largest first, and the unit {@code eigenvectors}, column
 * {@code k} at {@code [3*r + k]} for channel {@code r}. {@code fingerprint} identifies the file list they were
 * computed from (paths, sizes, modification times, base size).
 */
public record ImageStats(int base, int count, long fingerprint, float[] meanImage, double[] eigenvalues, double[] eigenvectors) {
    private static final int MAGIC = 0x414c5853; // "ALXS"
    private static final int VERSION = 1;

    public ImageStats {
        if (meanImage.length != 3 * base * base || eigenvalues.length != 3 || eigenvectors.length != 9) {
            throw new IllegalArgumentException("image statistics of inconsistent sizes");
        }
    }

    /** Exact integer sums over images (each a packed 0xRRGGBB array of base x base pixels). */
    static final class Sums {
        final long[] pixel;
        final long[] s = new long[3], ss = new long[6];
        int count;

        Sums(int base) { pixel = new long[3 * base * base]; }

        void add(int[] rgb) {
            int plane = rgb.length;
            long r = 0, g = 0, b = 0, rr = 0, rg = 0, rb = 0, gg = 0, gb = 0, bb = 0;
            for (int p = 0; p < plane; p++) {
                int v = rgb[p], cr = (v >> 16) & 0xff, cg = (v >> 8) & 0xff, cb = v & 0xff;
                pixel[p] += cr;
                pixel[p + plane] += cg;
                pixel[p + 2 * plane] += cb;
                r += cr; g += cg; b += cb;
                rr += cr * cr; rg += cr * cg; rb += cr * cb; gg += cg * cg; gb += cg * cb; bb += cb * cb;
            }
            s[0] += r; s[1] += g; s[2] += b;
            ss[0] += rr; ss[1] += rg; ss[2] += rb; ss[3] += gg; ss[4] += gb; ss[5] += bb;
            count++;
        }

        void merge(Sums o) {
            for (int i = 0; i < pixel.length; i++) pixel[i] += o.pixel[i];
            for (int i = 0; i < 3; i++) s[i] += o.s[i];
            for (int i = 0; i < 6; i++) ss[i] += o.ss[i];
            count += o.count;
        }

        ImageStats finish(int base, long fingerprint) {
            float[] mean = new float[pixel.length];
            for (int i = 0; i < mean.length; i++) mean[i] = (float) ((double) pixel[i] / count);
            double n = (double) count * base * base;
            int[][] idx = {{0, 1, 2}, {1, 3, 4}, {2, 4, 5}};
            double[][] cov = new double[3][3];
            for (int a = 0; a < 3; a++) {
                for (int b = 0; b < 3; b++) {
                    cov[a][b] = ((double) ss[idx[a][b]] - (double) s[a] * s[b] / n) / n / (255.0 * 255.0);
                }
            }
            double[] values = new double[3], vectors = new double[9];
            eigen3(cov, values, vectors);
            return new ImageStats(base, count, fingerprint, mean, values, vectors);
        }
    }

    /** Jacobi rotations on a symmetric 3x3 matrix; eigenvalues descending, each eigenvector's largest entry positive. */
    static void eigen3(double[][] m, double[] values, double[] vectors) {
        double[][] a = {m[0].clone(), m[1].clone(), m[2].clone()};
        double[][] v = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
        for (int sweep = 0; sweep < 64; sweep++) {
            double off = a[0][1] * a[0][1] + a[0][2] * a[0][2] + a[1][2] * a[1][2];
            if (off == 0) break;
            for (int p = 0; p < 2; p++) {
                for (int q = p + 1; q < 3; q++) {
                    if (a[p][q] == 0) continue;
                    double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    double c = 1 / Math.sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < 3; k++) {
                        double akp = a[k][p], akq = a[k][q];
                        a[k][p] = c * akp - s * akq;
                        a[k][q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < 3; k++) {
                        double apk = a[p][k], aqk = a[q][k];
                        a[p][k] = c * apk - s * aqk;
                        a[q][k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < 3; k++) {
                        double vkp = v[k][p], vkq = v[k][q];
                        v[k][p] = c * vkp - s * vkq;
                        v[k][q] = s * vkp + c * vkq;
                    }
                }
            }
        }
        Integer[] order = {0, 1, 2};
        java.util.Arrays.sort(order, (x, y) -> Double.compare(a[y][y], a[x][x]));
        for (int k = 0; k < 3; k++) {
            int j = order[k];
            values[k] = Math.max(0, a[j][j]);
            int big = 0;
            for (int r = 1; r < 3; r++) if (Math.abs(v[r][j]) > Math.abs(v[big][j])) big = r;
            double sign = v[big][j] < 0 ? -1 : 1;
            for (int r = 0; r < 3; r++) vectors[3 * r + k] = sign * v[r][j];
        }
    }

    /** Reads a cache file; null when it is missing, unreadable or of another format (the caller recomputes). */
    static ImageStats load(Path file) {
        if (!Files.isRegularFile(file)) return null;
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
            if (in.readInt() != MAGIC || in.readInt() != VERSION) return null;
            int base = in.readInt(), count = in.readInt();
            long fp = in.readLong();
            if (base <= 0 || base > 4096) return null;
            float[] mean = new float[3 * base * base];
            for (int i = 0; i < mean.length; i++) mean[i] = in.readFloat();
            double[] values = new double[3], vectors = new double[9];
            for (int i = 0; i < 3; i++) values[i] = in.readDouble();
            for (int i = 0; i < 9; i++) vectors[i] = in.readDouble();
            return new ImageStats(base, count, fp, mean, values, vectors);
        } catch (IOException e) {
            return null;
        }
    }

    /** Writes the cache file (through a temporary file and a rename, so a reader never sees half of it). */
    void save(Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp)))) {
            out.writeInt(MAGIC);
            out.writeInt(VERSION);
            out.writeInt(base);
            out.writeInt(count);
            out.writeLong(fingerprint);
            for (float f : meanImage) out.writeFloat(f);
            for (double d : eigenvalues) out.writeDouble(d);
            for (double d : eigenvectors) out.writeDouble(d);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
