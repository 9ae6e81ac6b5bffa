// Command timers writes an execution trace of goroutines waiting on the
// clock: time.Sleep of various lengths, a time.Ticker, time.After inside a
// select, and context.WithTimeout deadlines that fire.
//
// Usage: timers OUT.trace
package main

import (
	"context"
	"fmt"
	"os"
	"runtime/trace"
	"sync"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: timers OUT.trace")
		os.Exit(2)
	}
	f, err := os.Create(os.Args[1])
	check(err)
	check(trace.Start(f))

	var wg sync.WaitGroup
	run := func(fn func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn()
		}()
	}
	run(sleepers)
	run(ticking)
	run(afterSelect)
	run(deadlines)
	wg.Wait()

	trace.Stop()
	check(f.Close())
}

// sleepers sleeps for a spread of durations, from sub-millisecond to 20 ms.
func sleepers() {
	for _, d := range []time.Duration{
		100 * time.Microsecond, time.Millisecond, 5 * time.Millisecond, 20 * time.Millisecond,
	} {
		time.Sleep(d)
	}
}

// ticking receives 10 ticks from a 2 ms ticker.
func ticking() {
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for i := 0; i < 10; i++ {
		<-t.C
	}
}

// afterSelect waits on a channel that is fed only sometimes, with a
// time.After timeout as the alternative.
func afterSelect() {
	work := make(chan int)
	go func() {
		for i := 0; i < 3; i++ {
			time.Sleep(3 * time.Millisecond)
			work <- i
		}
	}()
	timeouts := 0
	for got := 0; got < 3; {
		select {
		case <-work:
			got++
		case <-time.After(2 * time.Millisecond):
			timeouts++
		}
	}
}

// deadlines waits for work that never comes under context.WithTimeout, so
// every wait ends when its deadline expires.
func deadlines() {
	never := make(chan struct{})
	for _, d := range []time.Duration{3 * time.Millisecond, 8 * time.Millisecond} {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		select {
		case <-never:
		case <-ctx.Done():
		}
		cancel()
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
