// Counts one step too many.
const [n, k] = require("fs").readFileSync(0, "utf8").trim().split(/\s+/).map(BigInt);
console.log((2n * n * k + 1n).toString());
