// Integer.parseInt throws NumberFormatException on the large groups.
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;

public class ParseInt {
    public static void main(String[] args) throws IOException {
        String[] parts = new BufferedReader(new InputStreamReader(System.in)).readLine().trim().split("\\s+");
        System.out.println(Integer.parseInt(parts[0]) + Integer.parseInt(parts[1]));
    }
}
