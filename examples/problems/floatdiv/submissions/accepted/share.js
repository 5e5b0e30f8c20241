const data = require("fs").readFileSync(0, "utf8").split(/\s+/).filter(Boolean).map(Number);
const lines = [];
for (let i = 0; i < data[0]; i++) lines.push(String(data[1 + 2 * i] / data[2 + 2 * i]));
console.log(lines.join("\n"));
