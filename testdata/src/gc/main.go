// Command gc writes an execution trace dominated by the garbage collector:
// with GOMAXPROCS 4 and a tiny GC percent, allocation-heavy workers trigger
// many GC cycles and are drafted into mark assists; main adds forced
// runtime.GC calls and runtime.ReadMemStats, both of which stop the world.
//
// Usage: gc OUT.trace
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/trace"
	"sync"
	"time"
)

// sink keeps some allocations reachable so the heap has something to mark.
var sink [4][]*node

type node struct {
	next *node
	data [48]byte
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gc OUT.trace")
		os.Exit(2)
	}
	runtime.GOMAXPROCS(4)
	debug.SetGCPercent(10) // collect early and often

	f, err := os.Create(os.Args[1])
	check(err)
	check(trace.Start(f))

	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			allocate(w, stop)
		}(w)
	}

	// Stop-the-world events with distinct reasons, interleaved with the
	// workers' own GC cycles.
	var ms runtime.MemStats
	for i := 0; i < 3; i++ {
		time.Sleep(15 * time.Millisecond)
		runtime.ReadMemStats(&ms)
		time.Sleep(15 * time.Millisecond)
		runtime.GC()
	}
	close(stop)
	wg.Wait()

	trace.Stop()
	check(f.Close())
}

// allocate builds and drops linked lists until stop is closed, keeping the
// most recent list reachable in sink.
func allocate(w int, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		var head *node
		for i := 0; i < 2000; i++ {
			head = &node{next: head}
		}
		buf := make([]byte, 32<<10) // larger objects too
		buf[0] = byte(w)
		sink[w] = append(sink[w][:0], head)
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
