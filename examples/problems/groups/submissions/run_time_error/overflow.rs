// Parses as i32: the large groups make parse() fail and unwrap() panic.
use std::io::Read;

fn main() {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    let sum: i32 = input.split_whitespace().map(|x| x.parse::<i32>().unwrap()).sum();
    println!("{}", sum);
}
