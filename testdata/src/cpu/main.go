// Command cpu writes an execution trace of CPU-bound goroutines while the
// CPU profiler runs (its output is discarded), so the trace carries CPU
// samples (StackSample events) with the stacks of the hot functions.
//
// Usage: cpu OUT.trace
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"sync"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: cpu OUT.trace")
		os.Exit(2)
	}
	f, err := os.Create(os.Args[1])
	check(err)
	// Start the profiler first so samples arrive during the whole trace.
	check(pprof.StartCPUProfile(io.Discard))
	check(trace.Start(f))

	deadline := time.Now().Add(250 * time.Millisecond)
	var wg sync.WaitGroup
	results := make([]uint64, 3)
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			switch i {
			case 0:
				results[i] = hashLoop(deadline)
			case 1:
				results[i] = primes(deadline)
			default:
				results[i] = matmul(deadline)
			}
		}(i)
	}
	wg.Wait()

	trace.Stop()
	pprof.StopCPUProfile()
	check(f.Close())
}

// hashLoop mixes bits in a tight loop (FNV-style) until the deadline.
func hashLoop(deadline time.Time) uint64 {
	h := uint64(14695981039346656037)
	for time.Now().Before(deadline) {
		for i := 0; i < 100000; i++ {
			h ^= uint64(i)
			h *= 1099511628211
		}
	}
	return h
}

// primes counts primes by trial division until the deadline.
func primes(deadline time.Time) uint64 {
	var count uint64
	for n := uint64(2); time.Now().Before(deadline); n++ {
		if isPrime(n) {
			count++
		}
	}
	return count
}

func isPrime(n uint64) bool {
	for d := uint64(2); d*d <= n; d++ {
		if n%d == 0 {
			return false
		}
	}
	return true
}

// matmul multiplies small matrices repeatedly until the deadline.
func matmul(deadline time.Time) uint64 {
	const n = 48
	var a, b, c [n][n]float64
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			a[i][j] = float64(i + j)
			b[i][j] = float64(i - j)
		}
	}
	var rounds uint64
	for time.Now().Before(deadline) {
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				var s float64
				for k := 0; k < n; k++ {
					s += a[i][k] * b[k][j]
				}
				c[i][j] = s
			}
		}
		rounds++
	}
	return rounds + uint64(c[1][1])
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
