package dev.alexnet.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.alexnet.model.io.AtomicFiles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one or more forward passes did: spans per track (a tower, or the single device) for each
 * layer, exchange and wait, and the bytes the exchanges moved. Thread-safe; writes a Chrome/Perfetto
 * trace (JSON, "X" complete events, one thread track per tower) that opens in ui.perfetto.dev or
 * chrome://tracing.
 */
public final class RunStats {
    public enum Kind { LAYER, EXCHANGE, WAIT }

    public record Span(String track, String name, Kind kind, long startNanos, long durNanos) {}

    private final List<Span> spans = new ArrayList<>();
    private final Map<String, Long> bytesByTrack = new LinkedHashMap<>();
    private final long origin = System.nanoTime();

    public synchronized void span(String track, String name, Kind kind, long startNanos, long durNanos) {
        spans.add(new Span(track, name, kind, startNanos, durNanos));
    }

    public synchronized void bytes(String track, long n) {
        bytesByTrack.merge(track, n, Long::sum);
    }

    public synchronized List<Span> spans() { return List.copyOf(spans); }

    public synchronized long bytesMoved() {
        return bytesByTrack.values().stream().mapToLong(Long::longValue).sum();
    }

    public synchronized Map<String, Long> bytesByTrack() { return Map.copyOf(bytesByTrack); }

    public synchronized List<String> tracks() {
        return spans.stream().map(Span::track).distinct().toList();
    }

    /** Total nanoseconds of {@code kind} spans on {@code track}. */
    public synchronized long total(String track, Kind kind) {
        return spans.stream().filter(s -> s.track.equals(track) && s.kind == kind).mapToLong(Span::durNanos).sum();
    }

    /** Writes the trace atomically (see {@link AtomicFiles}). */
    public synchronized void writeTrace(Path file) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        ArrayNode events = root.putArray("traceEvents");
        List<String> tracks = tracks();
        for (int i = 0; i < tracks.size(); i++) {
            ObjectNode meta = events.addObject();
            meta.put("name", "thread_name").put("ph", "M").put("pid", 1).put("tid", i + 1);
            meta.putObject("args").put("name", tracks.get(i));
        }
        for (Span s : spans) {
            ObjectNode e = events.addObject();
            e.put("name", s.name).put("cat", s.kind.name().toLowerCase()).put("ph", "X").put("pid", 1)
                    .put("tid", tracks.indexOf(s.track) + 1)
                    .put("ts", (s.startNanos - origin) / 1000.0).put("dur", s.durNanos / 1000.0);
        }
        root.put("displayTimeUnit", "ms");
        byte[] bytes = json.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
        AtomicFiles.write(file, ch -> AtomicFiles.writeFully(ch, ByteBuffer.wrap(bytes)));
    }
}
