// Command gc writes an execution trace dominated by the garbage collector:
// with GOMAXPROCS 4 and a tiny GC percent, allocation-heavy workers trigger
// many GC cycles and are drafted into mark assists; main adds
// runtime.ReadMemStats and forced runtime.GC calls, which stop the world.
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

// live is a long-lived, pointer-rich structure (~6 MB) that every GC cycle
// has to mark; with GC percent 10 a cycle starts every ~0.6 MB allocated.
var live []*node

// sink keeps each worker's latest allocation reachable.
var sink [4][]*node

type node struct {
	next *node
	data [48]byte
}

// rounds of allocation per worker: about 160 KB each, so the four workers
// allocate ~30 MB, which makes about 20 GC cycles.
const rounds = 50

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gc OUT.trace")
		os.Exit(2)
	}
	runtime.GOMAXPROCS(4)
	for i := 0; i < 100000; i++ {
		n := &node{}
		if i > 0 {
			n.next = live[i-1]
		}
		live = append(live, n)
	}
	debug.SetGCPercent(10) // collect early and often

	f, err := os.Create(os.Args[1])
	check(err)
	check(trace.Start(f))

	// The workers do a fixed amount of work (not "until told to stop") so the
	// size of the trace does not depend on how busy the machine is.
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			allocate(w, rounds)
		}(w)
	}

	// Stop-the-world for ReadMemStats while the workers' own GC cycles run.
	var ms runtime.MemStats
	for i := 0; i < 3; i++ {
		time.Sleep(10 * time.Millisecond)
		runtime.ReadMemStats(&ms)
	}
	wg.Wait()

	// Forced collections once the workers are done. (runtime.GC waits for
	// the sweep to finish by calling Gosched in a loop, and so may the
	// background sweeper; when the OS deschedules a thread that is still
	// sweeping, e.g. on a loaded machine, the two spin and the trace grows.)
	for i := 0; i < 2; i++ {
		runtime.GC()
	}

	trace.Stop()
	check(f.Close())
}

// allocate builds and drops rounds linked lists, keeping the most recent
// one reachable in sink.
func allocate(w, rounds int) {
	for r := 0; r < rounds; r++ {
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
