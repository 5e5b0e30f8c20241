#!/bin/bash
# Sleeps instead of computing: only a wall-clock limit stops it.
read -r n k
sleep 1000
echo $((2 * n * k))
