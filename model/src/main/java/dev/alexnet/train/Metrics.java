package dev.alexnet.train;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

import javax.imageio.ImageIO;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The figures of a run: {@code metrics.csv} (per epoch), {@code steps.csv} (the training loss averaged over
 * every {@link #STEP_WINDOW} steps) and {@code metrics.png} (loss and accuracy against epochs, the step
 * curve included), in the run directory, each rewritten whole after every epoch (through a temporary file
 * and a rename).
 */
public final class Metrics {
    /** One epoch. Fractions in [0,1]; {@code seconds} of training, validation excluded. */
    public record Epoch(int epoch, long images, double trainLoss, double trainTop1, double valLoss, double valTop1,
                        double valTop5, float lr, double seconds) {
        double imagesPerSecond() { return images / seconds; }
    }

    public static final String HEADER = "epoch,images,train_loss,train_top1,val_loss,val_top1,val_top5,lr,seconds,images_per_s";
    /** Steps averaged into one point of the step curve. */
    public static final int STEP_WINDOW = 10;

    /** The mean training loss of the steps up to {@code step}, at {@code epochs} epochs of progress. */
    public record StepPoint(long step, double epochs, double loss) {}

    private final List<Epoch> epochs = new ArrayList<>();
    private final List<StepPoint> steps = new ArrayList<>();
    private double windowLoss;
    private int windowSteps;

    /** Adds one step's loss; every {@link #STEP_WINDOW} steps the window's mean becomes a point. */
    public void step(long step, double epochs, double loss) {
        windowLoss += loss;
        if (++windowSteps == STEP_WINDOW) {
            steps.add(new StepPoint(step, epochs, windowLoss / windowSteps));
            windowLoss = 0;
            windowSteps = 0;
        }
    }

    public List<StepPoint> steps() { return List.copyOf(steps); }

    public List<Epoch> epochs() { return List.copyOf(epochs); }

    public void add(Epoch e) { epochs.add(e); }

    /** Reads an earlier run's {@code metrics.csv} (for --resume); a missing file gives no epochs. */
    public static Metrics read(Path runDir) throws IOException {
        Metrics m = new Metrics();
        Path f = runDir.resolve("metrics.csv");
        if (!Files.exists(f)) return m;
        for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
            if (line.isBlank() || line.startsWith("epoch")) continue;
            String[] v = line.split(",");
            if (v.length < 9) throw new IOException(f + ": malformed line '" + line + "'");
            m.add(new Epoch(Integer.parseInt(v[0]), Long.parseLong(v[1]), Double.parseDouble(v[2]), Double.parseDouble(v[3]),
                    Double.parseDouble(v[4]), Double.parseDouble(v[5]), Double.parseDouble(v[6]), Float.parseFloat(v[7]), Double.parseDouble(v[8])));
        }
        Path st = runDir.resolve("steps.csv");
        if (Files.exists(st)) {
            for (String line : Files.readAllLines(st, StandardCharsets.UTF_8)) {
                if (line.isBlank() || line.startsWith("step")) continue;
                String[] v = line.split(",");
                if (v.length < 3) throw new IOException(st + ": malformed line '" + line + "'");
                m.steps.add(new StepPoint(Long.parseLong(v[0]), Double.parseDouble(v[1]), Double.parseDouble(v[2])));
            }
        }
        return m;
    }

    public void write(Path runDir) throws IOException {
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        for (Epoch e : epochs) {
            sb.append(String.format(Locale.ROOT, "%d,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%g,%.3f,%.2f%n", e.epoch(), e.images(), e.trainLoss(),
                    e.trainTop1(), e.valLoss(), e.valTop1(), e.valTop5(), e.lr(), e.seconds(), e.imagesPerSecond()));
        }
        replace(runDir.resolve("metrics.csv"), sb);
        StringBuilder st = new StringBuilder("step,epochs,train_loss\n");
        for (StepPoint p : steps) st.append(String.format(Locale.ROOT, "%d,%.5f,%.6f%n", p.step(), p.epochs(), p.loss()));
        replace(runDir.resolve("steps.csv"), st);
        plot(runDir.resolve("metrics.png"));
    }

    private static void replace(Path file, CharSequence text) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private void plot(Path file) throws IOException {
        if (epochs.isEmpty()) return;
        System.setProperty("java.awt.headless", "true");
        double[] x = epochs.stream().mapToDouble(e -> e.epoch() + 1).toArray();
        XYChart loss = chart("Loss (cross-entropy)", "loss");
        if (!steps.isEmpty()) {
            loss.addSeries("train, every " + STEP_WINDOW + " steps", steps.stream().mapToDouble(StepPoint::epochs).toArray(),
                    steps.stream().mapToDouble(StepPoint::loss).toArray()).setMarker(SeriesMarkers.NONE);
        }
        loss.addSeries("train (epoch mean)", x, epochs.stream().mapToDouble(Epoch::trainLoss).toArray()).setMarker(SeriesMarkers.CIRCLE);
        loss.addSeries("validation", x, epochs.stream().mapToDouble(Epoch::valLoss).toArray()).setMarker(SeriesMarkers.CIRCLE);
        XYChart acc = chart("Accuracy", "fraction correct");
        acc.addSeries("train top-1", x, epochs.stream().mapToDouble(Epoch::trainTop1).toArray()).setMarker(SeriesMarkers.CIRCLE);
        acc.addSeries("validation top-1", x, epochs.stream().mapToDouble(Epoch::valTop1).toArray()).setMarker(SeriesMarkers.CIRCLE);
        acc.addSeries("validation top-5", x, epochs.stream().mapToDouble(Epoch::valTop5).toArray()).setMarker(SeriesMarkers.CIRCLE);
        BufferedImage a = BitmapEncoder.getBufferedImage(loss), b = BitmapEncoder.getBufferedImage(acc);
        BufferedImage both = new BufferedImage(a.getWidth() + b.getWidth(), Math.max(a.getHeight(), b.getHeight()), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = both.createGraphics();
        g.drawImage(a, 0, 0, null);
        g.drawImage(b, a.getWidth(), 0, null);
        g.dispose();
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        if (!ImageIO.write(both, "png", tmp.toFile())) throw new IOException("no PNG writer");
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static XYChart chart(String title, String y) {
        XYChart c = new XYChartBuilder().width(640).height(420).title(title).xAxisTitle("epoch").yAxisTitle(y).build();
        c.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNE);
        c.getStyler().setYAxisDecimalPattern("0.###");
        c.getStyler().setXAxisDecimalPattern("0.##");
        return c;
    }
}
