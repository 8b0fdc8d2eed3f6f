// The Go side of bench/src/bin/parked.rs: N goroutines each blocked receiving from one shared
// channel. Prints "create+park ns, resident bytes, wake+finish+join ns" per goroutine.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func residentBytes() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		panic(err)
	}
	fields := strings.Fields(string(data))
	pages, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		panic(err)
	}
	return pages * 4096
}

func main() {
	n, err := strconv.Atoi(os.Args[1])
	if err != nil {
		panic(err)
	}
	ch := make(chan struct{})
	var parked atomic.Int64
	var wg sync.WaitGroup
	wg.Add(n)
	before := residentBytes()
	start := time.Now()
	for i := 0; i < n; i++ {
		go func() {
			defer wg.Done()
			parked.Add(1)
			<-ch
		}()
	}
	for parked.Load() < int64(n) {
		time.Sleep(time.Millisecond)
	}
	create := time.Since(start)
	bytes := residentBytes() - before
	start = time.Now()
	for i := 0; i < n; i++ {
		ch <- struct{}{}
	}
	wg.Wait()
	wake := time.Since(start)
	fmt.Printf("%.0f %.0f %.0f\n",
		float64(create.Nanoseconds())/float64(n),
		float64(bytes)/float64(n),
		float64(wake.Nanoseconds())/float64(n))
}
