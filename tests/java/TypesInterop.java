import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the JDK says about values of the types our descriptors model, for
 * tests/types/jdk_interop_test.ts. Reads cases from the file named by the
 * first argument (or stdin), one a line:
 * a kind then tab-separated arguments; writes one line per case: the
 * tab-separated answers, or "ERR" and the exception's class name.
 *
 * Strings travel as the hex of their UTF-16 code units ("~" is null), so
 * any string (lone surrogates too) survives the trip.
 */
public final class TypesInterop {
  private TypesInterop() {}

  private static String hex(byte[] bytes) {
    StringBuilder sb = new StringBuilder(bytes.length * 2);
    for (byte b : bytes) sb.append(String.format("%02x", b & 0xff));
    return sb.toString();
  }

  private static String str(String hex) {
    if (hex.equals("~")) return null;
    StringBuilder sb = new StringBuilder(hex.length() / 4);
    for (int i = 0; i < hex.length(); i += 4) {
      sb.append((char) Integer.parseInt(hex.substring(i, i + 4), 16));
    }
    return sb.toString();
  }

  private static Object boxed(String type, String arg) {
    return type.equals("long") ? (Object) Long.valueOf(arg) : str(arg);
  }

  private static String answer(String[] f) {
    switch (f[0]) {
      case "biginteger": {
        BigInteger v = new BigInteger(f[1]);
        return v.hashCode() + "\t" + hex(v.toByteArray());
      }
      case "decimal": {
        BigDecimal v = new BigDecimal(new BigInteger(f[1]), Integer.parseInt(f[2]));
        String text = v.toString();
        String back;
        try {
          BigDecimal b = new BigDecimal(text);
          back = b.unscaledValue() + "\t" + b.scale();
        } catch (NumberFormatException e) {
          back = "ERR\tERR"; // an exponent past the int range: toString() of scale -2^31 and near
        }
        return text + "\t" + hex(v.unscaledValue().toByteArray()) + "\t" + v.scale() + "\t"
            + v.hashCode() + "\t" + back;
      }
      case "decimaltext": {
        BigDecimal v = new BigDecimal(str(f[1]));
        return v.unscaledValue() + "\t" + v.scale();
      }
      case "instant": {
        Instant v = Instant.ofEpochSecond(Long.parseLong(f[1]), Long.parseLong(f[2]));
        return v + "\t" + v.hashCode();
      }
      case "localdate": {
        LocalDate v = LocalDate.of(
            Integer.parseInt(f[1]), Integer.parseInt(f[2]), Integer.parseInt(f[3]));
        return v + "\t" + v.hashCode();
      }
      case "localtime": {
        LocalTime v = LocalTime.of(Integer.parseInt(f[1]), Integer.parseInt(f[2]),
            Integer.parseInt(f[3]), Integer.parseInt(f[4]));
        return v + "\t" + v.hashCode();
      }
      case "localdatetime": {
        LocalDateTime v = LocalDateTime.of(Integer.parseInt(f[1]), Integer.parseInt(f[2]),
            Integer.parseInt(f[3]), Integer.parseInt(f[4]), Integer.parseInt(f[5]),
            Integer.parseInt(f[6]), Integer.parseInt(f[7]));
        return v + "\t" + v.hashCode();
      }
      case "date": {
        Date v = new Date(Long.parseLong(f[1]));
        return v.toInstant() + "\t" + v.hashCode() + "\t" + v.getTime();
      }
      case "timestamp": {
        // As a reader of (getTime(), getNanos()) builds it.
        Timestamp v = new Timestamp(Long.parseLong(f[1]));
        v.setNanos(Integer.parseInt(f[2]));
        return v.toInstant() + "\t" + v.hashCode() + "\t" + v.getTime() + "\t" + v.getNanos();
      }
      case "char": {
        Character v = (char) Integer.parseInt(f[1]);
        return String.valueOf(v.hashCode());
      }
      case "list": {
        // f[1]: long | string; then the elements. List.of when no element is null.
        List<Object> items = new ArrayList<>();
        boolean hasNull = false;
        for (int i = 2; i < f.length; i++) {
          Object o = boxed(f[1], f[i]);
          hasNull |= o == null;
          items.add(o);
        }
        List<Object> v = hasNull ? items : List.of(items.toArray());
        return String.valueOf(v.hashCode());
      }
      case "map": {
        // f[1], f[2]: the key and value types; then key, value, key, value...
        Map<Object, Object> v = new HashMap<>();
        for (int i = 3; i + 1 < f.length; i += 2) v.put(boxed(f[1], f[i]), boxed(f[2], f[i + 1]));
        return v.size() + "\t" + v.hashCode();
      }
      case "either": {
        // Flink's Left/Right hash as the value they hold.
        return String.valueOf(boxed(f[1], f[2]).hashCode());
      }
      default:
        throw new IllegalArgumentException("unknown kind " + f[0]);
    }
  }

  public static void main(String[] args) throws Exception {
    BufferedReader in = args.length > 0
        ? Files.newBufferedReader(Paths.get(args[0]), StandardCharsets.UTF_8)
        : new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    StringBuilder sb = new StringBuilder();
    String line;
    while ((line = in.readLine()) != null) {
      String[] f = line.split("\t", -1);
      try {
        sb.append(answer(f));
      } catch (RuntimeException e) {
        sb.append("ERR\t").append(e.getClass().getName());
      }
      sb.append('\n');
      if (sb.length() > 1 << 16) {
        out.print(sb);
        sb.setLength(0);
      }
    }
    out.print(sb);
    out.flush();
  }
}
