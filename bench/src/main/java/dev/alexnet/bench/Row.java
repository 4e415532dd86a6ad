package dev.alexnet.bench;

import com.fasterxml.jackson.annotation.JsonUnwrapped;
import dev.alexnet.kernels.Agreement;

/**
 * One measured case: a table layer (or the whole network) on one device at one batch size.
 * Times in milliseconds per run of the whole batch; throughput at the median time.
 * The flat accessors ({@link #medianMs()}, {@link #backend()} ...) read through to the parts; the parts are
 * unwrapped in JSON, so a row is one flat object there as in the CSV.
 *
 * @param subject   what was measured, on what
 * @param status    OK, FAIL (outside the agreement bound), ERROR (threw while running),
 *                  SKIP (could not compile, time limit, or not timed by choice; see note)
 * @param times     the repetitions and their spread; {@link Times#NONE} where nothing was timed
 * @param speed     work and the rates at the median time
 * @param check     agreement with the reference kernels
 * @param compileMs time to compile the program; NaN if not compiled here
 * @param note      why a row is not a plain OK, or how it was measured
 */
public record Row(@JsonUnwrapped Subject subject, String status, @JsonUnwrapped Times times,
                  @JsonUnwrapped Speed speed, @JsonUnwrapped Check check, double compileMs, String note) {

    /**
     * @param backend ref, java, dnnl, cuda (or a test's own)
     * @param device  the device as named on the command line, e.g. {@code java:2}
     * @param threads host threads of the device; 0 where not applicable (a GPU)
     * @param kind    compute (GFLOP/s), memory (GB/s) or network (GFLOP/s and images/s)
     * @param unit    the unit of {@link Speed#throughput}
     */
    public record Subject(String backend, String device, int threads, int batch, String layer, LayerTable.Kind kind,
                          String unit) {
        static Subject of(String backend, String device, int threads, int batch, LayerTable.Case c) {
            return new Subject(backend, device, threads, batch, c.name(), c.kind(), c.unit());
        }
    }

    /** Timed repetitions (after {@code warmupReps} warm-up runs taking {@code warmupMs}) and their quantiles. */
    public record Times(int reps, int warmupReps, double warmupMs, boolean steady, boolean drift,
                        double medianMs, double minMs, double p25Ms, double p75Ms, double maxMs, double iqrPct) {
        private static final double NAN = Double.NaN;
        public static final Times NONE = new Times(0, 0, NAN, false, false, NAN, NAN, NAN, NAN, NAN, NAN);

        static Times of(Timing.Result r) {
            return new Times(r.reps(), r.warmupReps(), r.warmupNanos() / 1e6, r.steady(), r.drift(),
                    r.medianMs(), r.minMs(), r.p25Ms(), r.p75Ms(), r.maxMs(), r.iqrPercent());
        }

        /** One run of {@code ms}, no warm-up. */
        static Times single(double ms) { return new Times(1, 0, 0, false, false, ms, ms, ms, ms, ms, 0); }
    }

    /**
     * @param work       FLOPs (compute, network) or bytes (memory) per run of the batch
     * @param throughput GFLOP/s or GB/s at the median time ({@link Subject#unit})
     * @param pctPeak    throughput over the measured peak at this thread count (FMA or triad), percent; NaN if none
     * @param vsDnnl     oneDNN's median time over this row's (same layer, batch, threads): above 1 = faster than oneDNN; NaN if none
     */
    public record Speed(double work, double throughput, double imagesPerSec, double pctPeak, double vsDnnl) {
        static Speed untimed(double work) { return new Speed(work, Double.NaN, Double.NaN, Double.NaN, Double.NaN); }
    }

    /**
     * @param maxAbs        largest absolute difference from the reference kernels on the checked images
     * @param maxRel        largest |y-r| / (|r| + rms(r)) (see {@link Agreement}); the pass/fail figure
     * @param bound         the bound on maxRel
     * @param checkedImages how many images of the batch the oracle checked
     */
    public record Check(double maxAbs, double maxRel, double bound, int checkedImages) {
        /** {@code a}'s figures, or NaN and no images where nothing was checked ({@code a} null). */
        static Check of(Agreement a, double bound) {
            return a == null ? new Check(Double.NaN, Double.NaN, bound, 0) : new Check(a.maxAbs(), a.maxRel(), bound, a.images());
        }
    }

    public String backend() { return subject.backend(); }
    public String device() { return subject.device(); }
    public int threads() { return subject.threads(); }
    public int batch() { return subject.batch(); }
    public String layer() { return subject.layer(); }
    public LayerTable.Kind kind() { return subject.kind(); }
    public String unit() { return subject.unit(); }
    public int reps() { return times.reps(); }
    public int warmupReps() { return times.warmupReps(); }
    public double warmupMs() { return times.warmupMs(); }
    public boolean steady() { return times.steady(); }
    public boolean drift() { return times.drift(); }
    public double medianMs() { return times.medianMs(); }
    public double minMs() { return times.minMs(); }
    public double p25Ms() { return times.p25Ms(); }
    public double p75Ms() { return times.p75Ms(); }
    public double maxMs() { return times.maxMs(); }
    public double iqrPct() { return times.iqrPct(); }
    public double work() { return speed.work(); }
    public double throughput() { return speed.throughput(); }
    public double imagesPerSec() { return speed.imagesPerSec(); }
    public double pctPeak() { return speed.pctPeak(); }
    public double vsDnnl() { return speed.vsDnnl(); }
    public double maxAbs() { return check.maxAbs(); }
    public double maxRel() { return check.maxRel(); }
    public double bound() { return check.bound(); }
    public int checkedImages() { return check.checkedImages(); }

    public boolean failed() { return status.equals("FAIL") || status.equals("ERROR"); }
    public boolean timed() { return reps() > 0 && !Double.isNaN(medianMs()); }

    public Row withVsDnnl(double v) {
        Speed s = new Speed(speed.work(), speed.throughput(), speed.imagesPerSec(), speed.pctPeak(), v);
        return new Row(subject, status, times, s, check, compileMs, note);
    }

    public Row withNote(String n) { return new Row(subject, status, times, speed, check, compileMs, n); }

    /** A row without timings (SKIP or ERROR before anything was measured). */
    static Row untimed(String backend, String device, int threads, int batch, LayerTable.Case c, String status,
                       Agreement a, double bound, String note) {
        return new Row(Subject.of(backend, device, threads, batch, c), status, Times.NONE, Speed.untimed(c.work(batch)),
                Check.of(a, bound), Double.NaN, note);
    }

    /** CSV header, matching {@link #csv()}. */
    public static String csvHeader() {
        return "backend,device,threads,batch,layer,kind,unit,status,reps,warmup_reps,warmup_ms,steady,drift,"
                + "median_ms,min_ms,p25_ms,p75_ms,max_ms,iqr_pct,work,throughput,images_per_s,pct_peak,vs_dnnl,"
                + "max_abs_err,max_rel_err,bound,checked_images,compile_ms,note";
    }

    public String csv() {
        return String.join(",", backend(), device(), Integer.toString(threads()), Integer.toString(batch()), layer(),
                kind().name().toLowerCase(), unit(), status, Integer.toString(reps()), Integer.toString(warmupReps()),
                num(warmupMs()), Boolean.toString(steady()), Boolean.toString(drift()), num(medianMs()), num(minMs()),
                num(p25Ms()), num(p75Ms()), num(maxMs()), num(iqrPct()), num(work()), num(throughput()), num(imagesPerSec()),
                num(pctPeak()), num(vsDnnl()), num(maxAbs()), num(maxRel()), num(bound()), Integer.toString(checkedImages()),
                num(compileMs), quote(note));
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
