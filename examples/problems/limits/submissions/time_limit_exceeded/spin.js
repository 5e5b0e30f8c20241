// An endless loop.
let steps = 0;
for (;;) steps = (steps + 1) % 1000003;
