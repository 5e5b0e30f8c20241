package main

import (
	"bufio"
	"os"
	"strconv"
)

func main() {
	reader := bufio.NewReaderSize(os.Stdin, 1<<16)
	writer := bufio.NewWriterSize(os.Stdout, 1<<16)
	defer writer.Flush()
	readInt := func() int64 {
		var x int64
		c, _ := reader.ReadByte()
		for c == ' ' || c == '\n' || c == '\r' {
			c, _ = reader.ReadByte()
		}
		for c >= '0' && c <= '9' {
			x = x*10 + int64(c-'0')
			c, _ = reader.ReadByte()
		}
		return x
	}
	n := int(readInt())
	a := make([]int64, n)
	var sum int64
	for i := range a {
		a[i] = readInt()
		sum += a[i]
	}
	writer.WriteString(strconv.FormatInt(sum, 10) + "\n")
	for i := n - 1; i >= 0; i-- {
		writer.WriteString(strconv.FormatInt(a[i], 10))
		writer.WriteByte('\n')
	}
}
