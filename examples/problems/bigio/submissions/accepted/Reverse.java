import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.util.StringTokenizer;

public class Reverse {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in), 1 << 16);
        int n = Integer.parseInt(in.readLine().trim());
        long[] a = new long[n];
        long sum = 0;
        int read = 0;
        while (read < n) {
            StringTokenizer tokens = new StringTokenizer(in.readLine());
            while (tokens.hasMoreTokens()) {
                a[read] = Long.parseLong(tokens.nextToken());
                sum += a[read++];
            }
        }
        StringBuilder out = new StringBuilder();
        out.append(sum).append('\n');
        for (int i = n - 1; i >= 0; i--) out.append(a[i]).append('\n');
        PrintWriter writer = new PrintWriter(System.out);
        writer.print(out);
        writer.flush();
    }
}
