// Command annotations writes an execution trace with user annotations from
// package runtime/trace: tasks (nested, and ended on a different goroutine
// than the one that created them), regions (nested; both trace.WithRegion
// and trace.StartRegion; some on the background task), and log messages
// with and without categories.
//
// Usage: annotations OUT.trace
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
		fmt.Fprintln(os.Stderr, "usage: annotations OUT.trace")
		os.Exit(2)
	}
	f, err := os.Create(os.Args[1])
	check(err)
	check(trace.Start(f))

	// A region and a log outside any task.
	trace.WithRegion(context.Background(), "setup", func() {
		trace.Log(context.Background(), "", "no task, no category")
		time.Sleep(100 * time.Microsecond)
	})

	ctx, request := trace.NewTask(context.Background(), "request")
	trace.Logf(ctx, "request", "id=%d", 42)

	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			fetch(ctx, i)
		}(i)
	}
	wg.Wait()

	// A task created here and ended by another goroutine.
	handoff, hand := trace.NewTask(ctx, "handoff")
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := trace.StartRegion(handoff, "finish")
		trace.Log(handoff, "state", "ending task on another goroutine")
		time.Sleep(200 * time.Microsecond)
		r.End()
		hand.End()
	}()
	<-done

	request.End()

	trace.Stop()
	check(f.Close())
}

// fetch is one sub-task of the request with nested regions and logs.
func fetch(parent context.Context, i int) {
	ctx, task := trace.NewTask(parent, "fetch")
	defer task.End()
	trace.Logf(ctx, "fetch", "part %d", i)

	trace.WithRegion(ctx, "lookup", func() {
		time.Sleep(time.Duration(100*(i+1)) * time.Microsecond)
		// Nested region inside lookup.
		r := trace.StartRegion(ctx, "decode")
		spin(30 * time.Microsecond)
		r.End()
	})

	r := trace.StartRegion(ctx, "store")
	trace.Log(ctx, "", "storing without category")
	spin(20 * time.Microsecond)
	r.End()
}

// spin burns CPU for roughly d without blocking.
func spin(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
