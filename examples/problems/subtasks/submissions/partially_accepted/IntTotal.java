import java.util.Scanner;

/* Reads ints: group 3's numbers do not fit, so it crashes there (50 points). */
public class IntTotal {
    public static void main(String[] args) {
        Scanner in = new Scanner(System.in);
        int n = in.nextInt();
        long total = 0;
        for (int i = 0; i < n; i++) total += in.nextInt();
        System.out.println(total);
    }
}
