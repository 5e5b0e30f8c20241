// Goes to a neighbour of 1 and back before the real way: a crossing is visited twice.
const data = require("fs").readFileSync(0, "utf8").split(/\s+/).filter(Boolean).map(Number);
const [n, m] = data;
const adjacent = Array.from({ length: n + 1 }, () => []);
for (let i = 0; i < m; i++) {
  adjacent[data[2 + 2 * i]].push(data[3 + 2 * i]);
  adjacent[data[3 + 2 * i]].push(data[2 + 2 * i]);
}
const previous = new Int32Array(n + 1);
previous[1] = -1;
const queue = [1];
for (let head = 0; head < queue.length; head++)
  for (const v of adjacent[queue[head]]) if (!previous[v]) { previous[v] = queue[head]; queue.push(v); }
if (!previous[n]) {
  console.log(-1);
} else {
  const path = [];
  for (let u = n; u !== -1; u = previous[u]) path.push(u);
  path.reverse();
  const detour = [1, adjacent[1][0], ...path];
  console.log(detour.length + "\n" + detour.join(" "));
}
