// Command fanout writes an execution trace with many short-lived goroutines, the
// shape of a busy server: each "request" goroutine parses, waits on a shared
// channel or a mutex, sleeps briefly and exits. goscope's benchmarks use it to
// measure tables and lanes with ~100,000 goroutines.
//
// Usage: fanout OUT.trace [GOROUTINES]
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime/trace"
	"strconv"
	"sync"
	"time"
)

var (
	mu     sync.Mutex
	shared int
	sink   = make(chan int, 64)
)

func parse(n int) int {
	s := 0
	for i := 0; i < 200+n%300; i++ {
		s += i * n
	}
	return s
}

func handleRead(n int, wg *sync.WaitGroup) {
	defer wg.Done()
	sink <- parse(n)
}

func handleWrite(n int, wg *sync.WaitGroup) {
	defer wg.Done()
	v := parse(n)
	mu.Lock()
	shared += v
	mu.Unlock()
}

func handleSlow(n int, wg *sync.WaitGroup) {
	defer wg.Done()
	time.Sleep(time.Duration(50+n%200) * time.Microsecond)
	sink <- parse(n)
}

func main() {
	if len(os.Args) < 2 || len(os.Args) > 3 {
		fmt.Fprintln(os.Stderr, "usage: fanout OUT.trace [GOROUTINES]")
		os.Exit(2)
	}
	total := 100000
	if len(os.Args) == 3 {
		n, err := strconv.Atoi(os.Args[2])
		check(err)
		total = n
	}
	f, err := os.Create(os.Args[1])
	check(err)
	w := bufio.NewWriterSize(f, 1<<20)
	check(trace.Start(w))

	done := make(chan struct{})
	go func() {
		for range sink {
		}
		close(done)
	}()
	var wg sync.WaitGroup
	// Waves of 1,000 so that at most a few thousand are alive at once.
	for started := 0; started < total; {
		for i := 0; i < 1000 && started < total; i++ {
			wg.Add(1)
			switch started % 3 {
			case 0:
				go handleRead(started, &wg)
			case 1:
				go handleWrite(started, &wg)
			default:
				go handleSlow(started, &wg)
			}
			started++
		}
		time.Sleep(200 * time.Microsecond)
	}
	wg.Wait()
	close(sink)
	<-done

	trace.Stop()
	check(w.Flush())
	check(f.Close())
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
