const data = require("fs").readFileSync(0, "utf8").split(/\s+/).filter(Boolean);
const n = Number(data[0]);
const numbers = data.slice(1, n + 1);
let sum = 0n;
for (const x of numbers) sum += BigInt(x);
numbers.reverse();
process.stdout.write(sum.toString() + "\n" + numbers.join("\n") + "\n");
