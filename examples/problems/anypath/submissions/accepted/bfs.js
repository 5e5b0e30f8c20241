const data = require("fs").readFileSync(0, "utf8").split(/\s+/).filter(Boolean).map(Number);
const [n, m] = data;
const adjacent = Array.from({ length: n + 1 }, () => []);
for (let i = 0; i < m; i++) {
  const u = data[2 + 2 * i], v = data[3 + 2 * i];
  adjacent[u].push(v);
  adjacent[v].push(u);
}
const previous = new Int32Array(n + 1);
previous[1] = -1;
const queue = [1];
for (let head = 0; head < queue.length; head++) {
  for (const v of adjacent[queue[head]]) {
    if (!previous[v]) {
      previous[v] = queue[head];
      queue.push(v);
    }
  }
}
if (!previous[n]) {
  console.log(-1);
} else {
  const path = [];
  for (let u = n; u !== -1; u = previous[u]) path.push(u);
  path.reverse();
  console.log(path.length + "\n" + path.join(" "));
}
