const [n, k] = require("fs").readFileSync(0, "utf8").trim().split(/\s+/).map(BigInt);
console.log((2n * n * k).toString());
