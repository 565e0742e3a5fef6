import java.io.ByteArrayOutputStream;
import java.io.Externalizable;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInput;
import java.io.ObjectInputStream;
import java.io.ObjectOutput;
import java.io.ObjectOutputStream;
import java.io.PrintWriter;
import java.io.Serializable;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Interop harness for tests/wire/java_interop_test.ts (written for this project).
 *
 * <pre>
 *   java ThrowableInterop read FILE...   read each stream with ObjectInputStream; one JSON line per file
 *   java ThrowableInterop write DIR      write streams full of serialization features; one JSON line per file
 * </pre>
 *
 * JSON strings escape every char outside printable ASCII as \\uXXXX, so the output is ASCII
 * and lone surrogates survive.
 */
public final class ThrowableInterop {

    public static void main(String[] args) throws Exception {
        if (args.length >= 1 && args[0].equals("read")) {
            for (int i = 1; i < args.length; i++) read(args[i]);
        } else if (args.length == 2 && args[0].equals("write")) {
            write(Path.of(args[1]));
        } else {
            System.err.println("usage: ThrowableInterop read FILE... | write DIR");
            System.exit(2);
        }
        System.out.flush();
    }

    // ---------------------------------------------------------------- read

    private static void read(String file) {
        StringBuilder out = new StringBuilder("{\"file\":").append(q(Path.of(file).getFileName().toString()));
        try (InputStream in = new FileInputStream(file)) {
            ObjectInputStream ois = new ObjectInputStream(in);
            Object o = ois.readObject();
            int trailing = in.available();
            if (!(o instanceof Throwable)) {
                out.append(",\"ok\":false,\"error\":").append(q("not a Throwable: " + o.getClass().getName()));
            } else {
                Throwable t = (Throwable) o;
                out.append(",\"ok\":true,\"chain\":").append(chain(t));
                out.append(",\"trailing\":").append(trailing);
                out.append(",\"reserialized\":").append(q(hex(serialize(t))));
            }
        } catch (Exception e) {
            out.append(",\"ok\":false,\"error\":").append(q(e.getClass().getName() + ": " + e.getMessage()));
        }
        System.out.println(out.append('}'));
    }

    /** The cause chain as JSON; a cause seen before ends it with {"loopsTo": index}. */
    private static String chain(Throwable t) {
        StringBuilder sb = new StringBuilder("[");
        Map<Throwable, Integer> seen = new IdentityHashMap<>();
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (sb.length() > 1) sb.append(',');
            Integer before = seen.get(c);
            if (before != null) {
                sb.append("{\"loopsTo\":").append(before).append('}');
                break;
            }
            seen.put(c, seen.size());
            sb.append("{\"class\":").append(q(c.getClass().getName()))
                    .append(",\"message\":").append(q(c.getMessage()))
                    .append(",\"stackDepth\":").append(c.getStackTrace().length)
                    .append(",\"suppressed\":").append(c.getSuppressed().length)
                    .append('}');
        }
        return sb.append(']').toString();
    }

    // ---------------------------------------------------------------- write

    enum Color { RED, GREEN }

    /** An exception with one field of each kind the grammar has. */
    static final class InteropRichException extends RuntimeException {
        private static final long serialVersionUID = 7L;
        byte b = -3;
        char c = '\u20ac';
        double d = 2.5;
        float f = 1.5f;
        int i = 123456;
        long j = -9876543210L;
        short s = 4242;
        boolean z = true;
        int[] ints = {1, 2, 3};
        long[][] longs = {{1L}, {2L, 3L}};
        String[] names = {"a", null, "\u00e4\u0000\ud83d\ude00"};
        Object[] mixed = {Integer.valueOf(7), null, "x", new double[] {1.0}, Color.GREEN};
        TimeUnit unit = TimeUnit.SECONDS;
        Color color = Color.RED;
        Class<?> type = String.class;
        Class<?> arrayType = int[][].class;
        Map<String, Object> map = new HashMap<>();
        List<Object> list = new ArrayList<>();
        Object proxy;
        Ext ext = new Ext();
        BigInteger big = new BigInteger("123456789012345678901234567890");
        Date date = new Date(1700000000000L);

        InteropRichException(String message, Throwable cause) {
            super(message, cause);
            map.put("k", "v");
            map.put("n", 1L);
            list.add(Color.GREEN);
            list.add(this); // a back-reference to the object being written
            proxy = Proxy.newProxyInstance(
                    ThrowableInterop.class.getClassLoader(), new Class<?>[] {Runnable.class}, new Handler());
        }
    }

    static final class Handler implements InvocationHandler, Serializable {
        private static final long serialVersionUID = 1L;
        String tag = "handler";

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) {
            return null;
        }
    }

    /** Externalizable: its data is block data plus objects, ended by TC_ENDBLOCKDATA. */
    public static final class Ext implements Externalizable {
        private static final long serialVersionUID = 1L;

        public Ext() {}

        @Override
        public void writeExternal(ObjectOutput out) throws IOException {
            out.writeInt(99);
            out.writeUTF("ext");
            out.writeObject(new int[300]); // an object between block data
            out.write(new byte[2000]); // long block data
        }

        @Override
        public void readExternal(ObjectInput in) throws IOException {
            throw new UnsupportedOperationException();
        }
    }

    private static void write(Path dir) throws IOException {
        // 1. Suppressed exceptions (an ArrayList with writeObject data) and real stack traces.
        IllegalStateException sup = new IllegalStateException("with suppressed");
        sup.addSuppressed(new RuntimeException("s1"));
        sup.addSuppressed(new IOException("s2"));
        emit(dir, "suppressed.ser", sup, false);

        // 2. Every kind of content in one exception, a long non-ASCII message, a 3-deep chain.
        String longMessage = "\u20ac\u00e4\ud83d\ude00x\u0000".repeat(9000); // > 65535 bytes
        InteropRichException rich = new InteropRichException(longMessage,
                new UncheckedIOException("middle", new IOException("root \u00fc")));
        emit(dir, "rich.ser", rich, true);

        // 3. A stream that starts with TC_RESET.
        emitWith(dir, "reset.ser", new RuntimeException("after reset"), true, true);

        // 4. A 30-deep cause chain with stack traces (within the default maxDepth).
        Throwable deep = new IOException("level 0");
        for (int k = 1; k < 30; k++) deep = new RuntimeException("level " + k, deep);
        emit(dir, "deep30.ser", deep, true);

        // 5. A 100-deep chain: over the default maxDepth.
        Throwable deeper = new IOException("level 0");
        for (int k = 1; k < 100; k++) deeper = new RuntimeException("level " + k, deeper);
        emit(dir, "deep100.ser", deeper, true);

        // 6. JDK-module and native frames (format bits, line -2) and a null message with a cause.
        Throwable reflective;
        try {
            Integer.class.getMethod("parseInt", String.class).invoke(null, "not a number");
            throw new AssertionError("parseInt accepted garbage");
        } catch (ReflectiveOperationException e) {
            reflective = e; // InvocationTargetException(null message, cause NumberFormatException)
        }
        emit(dir, "reflective.ser", reflective, true);
        emit(dir, "null-message.ser", new UnsupportedOperationException(), true);
    }

    private static void emit(Path dir, String name, Throwable t, boolean printable) throws IOException {
        emitWith(dir, name, t, printable, false);
    }

    private static void emitWith(Path dir, String name, Throwable t, boolean printable, boolean reset)
            throws IOException {
        try (FileOutputStream fos = new FileOutputStream(dir.resolve(name).toFile())) {
            ObjectOutputStream oos = new ObjectOutputStream(fos);
            if (reset) oos.reset();
            oos.writeObject(t);
            oos.flush();
        }
        StringBuilder hierarchy = new StringBuilder("[");
        for (Class<?> c = t.getClass(); c != Object.class; c = c.getSuperclass()) {
            if (hierarchy.length() > 1) hierarchy.append(',');
            hierarchy.append(q(c.getName()));
        }
        StringBuilder out = new StringBuilder("{\"file\":").append(q(name))
                .append(",\"chain\":").append(chain(t))
                .append(",\"hierarchy\":").append(hierarchy.append(']'));
        if (printable) {
            StringWriter sw = new StringWriter();
            t.printStackTrace(new PrintWriter(sw, true));
            out.append(",\"printed\":").append(q(sw.toString()));
        }
        System.out.println(out.append('}'));
    }

    // ---------------------------------------------------------------- helpers

    private static byte[] serialize(Object o) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (ObjectOutputStream oos = new ObjectOutputStream(bos)) {
            oos.writeObject(o);
        }
        return bos.toByteArray();
    }

    private static String hex(byte[] bytes) {
        StringBuilder sb = new StringBuilder(bytes.length * 2);
        for (byte b : bytes) sb.append(Character.forDigit((b >> 4) & 15, 16)).append(Character.forDigit(b & 15, 16));
        return sb.toString();
    }

    private static String q(String s) {
        if (s == null) return "null";
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') sb.append('\\').append(c);
            else if (c >= 0x20 && c < 0x7f) sb.append(c);
            else sb.append(String.format("\\u%04x", (int) c));
        }
        return sb.append('"').toString();
    }
}
