package dev.alexnet.bench;

import dev.alexnet.kernels.Agreement;

/**
 * One measured case: a table layer (or the whole network) on one device at one batch size.
 * Times in milliseconds per run of the whole batch; throughput at the median time.
 *
 * @param backend     ref, java, dnnl, cuda (or a test's own)
 * @param device      the device as named on the command line, e.g. {@code java:2}
 * @param threads     host threads of the device; 0 where not applicable (a GPU)
 * @param kind        compute (GFLOP/s), memory (GB/s) or network (GFLOP/s and images/s)
 * @param status      OK, FAIL (outside the agreement bound), ERROR (threw while running),
 *                    SKIP (could not compile, time limit, or not timed by choice; see note)
 * @param work        FLOPs (compute, network) or bytes (memory) per run of the batch
 * @param throughput  GFLOP/s or GB/s at the median time ({@link #unit})
 * @param pctPeak     throughput over the measured peak at this thread count (FMA or triad), percent; NaN if none
 * @param vsDnnl      oneDNN's median time over this row's (same layer, batch, threads): above 1 = faster than oneDNN; NaN if none
 * @param maxAbs      largest absolute difference from the reference kernels on the checked images
 * @param maxRel      largest |y-r| / (|r| + rms(r)) (see {@link Agreement}); the pass/fail figure
 * @param bound       the bound on maxRel
 * @param checkedImages how many images of the batch the oracle checked
 */
public record Row(String backend, String device, int threads, int batch, String layer, LayerTable.Kind kind, String unit,
                  String status, int reps, int warmupReps, double warmupMs, boolean steady, boolean drift,
                  double medianMs, double minMs, double p25Ms, double p75Ms, double maxMs, double iqrPct,
                  double work, double throughput, double imagesPerSec, double pctPeak, double vsDnnl,
                  double maxAbs, double maxRel, double bound, int checkedImages, double compileMs, String note) {

    public boolean failed() { return status.equals("FAIL") || status.equals("ERROR"); }
    public boolean timed() { return reps > 0 && !Double.isNaN(medianMs); }

    public Row withVsDnnl(double v) {
        return new Row(backend, device, threads, batch, layer, kind, unit, status, reps, warmupReps, warmupMs, steady, drift,
                medianMs, minMs, p25Ms, p75Ms, maxMs, iqrPct, work, throughput, imagesPerSec, pctPeak, v,
                maxAbs, maxRel, bound, checkedImages, compileMs, note);
    }

    public Row withNote(String n) {
        return new Row(backend, device, threads, batch, layer, kind, unit, status, reps, warmupReps, warmupMs, steady, drift,
                medianMs, minMs, p25Ms, p75Ms, maxMs, iqrPct, work, throughput, imagesPerSec, pctPeak, vsDnnl,
                maxAbs, maxRel, bound, checkedImages, compileMs, n);
    }

    /** A row without timings (SKIP or ERROR before anything was measured). */
    static Row untimed(String backend, String device, int threads, int batch, LayerTable.Case c, String status,
                       Agreement a, double bound, String note) {
        double nan = Double.NaN;
        return new Row(backend, device, threads, batch, c.name(), c.kind(), c.unit(), status, 0, 0, nan, false, false,
                nan, nan, nan, nan, nan, nan, c.work(batch), nan, nan, nan, nan,
                a == null ? nan : a.maxAbs(), a == null ? nan : a.maxRel(), bound, a == null ? 0 : a.images(), nan, note);
    }

    /** CSV header, matching {@link #csv()}. */
    public static String csvHeader() {
        return "backend,device,threads,batch,layer,kind,unit,status,reps,warmup_reps,warmup_ms,steady,drift,"
                + "median_ms,min_ms,p25_ms,p75_ms,max_ms,iqr_pct,work,throughput,images_per_s,pct_peak,vs_dnnl,"
                + "max_abs_err,max_rel_err,bound,checked_images,compile_ms,note";
    }

    public String csv() {
        return String.join(",", backend, device, Integer.toString(threads), Integer.toString(batch), layer,
                kind.name().toLowerCase(), unit, status, Integer.toString(reps), Integer.toString(warmupReps), num(warmupMs),
                Boolean.toString(steady), Boolean.toString(drift), num(medianMs), num(minMs), num(p25Ms), num(p75Ms), num(maxMs),
                num(iqrPct), num(work), num(throughput), num(imagesPerSec), num(pctPeak), num(vsDnnl), num(maxAbs), num(maxRel),
                num(bound), Integer.toString(checkedImages), num(compileMs), quote(note));
    }

    /** Empty for NaN, so spreadsheets see a missing value rather than the text "NaN". */
    static String num(double v) {
        if (Double.isNaN(v)) return "";
        if (Double.isInfinite(v)) return v > 0 ? "inf" : "-inf";
        return Double.toString(v);
    }

    static String quote(String s) {
        if (s == null || s.isEmpty()) return "";
        return "\"" + s.replace("\"", "\"\"").replace('\n', ' ') + "\"";
    }
}
