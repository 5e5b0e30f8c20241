// Fills 1 GiB of buffers, a MiB at a time: four times the memory limit.
const blocks = [];
for (let i = 0; i < 1024; i++) blocks.push(Buffer.alloc(1 << 20, i & 255));
console.log(blocks.length);
