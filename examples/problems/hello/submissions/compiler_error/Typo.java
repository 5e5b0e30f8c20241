public class Typo {
    public static void main(String[] args) {
        System.out.printn("Hello World!");
    }
}
