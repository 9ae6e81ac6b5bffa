// Command stall reproduces a one-second request stall for goscope's
// "why did this request stall?" walkthrough.
//
// Two stream goroutines (both started from main.stream, so they group
// together) share a quota pool: a buffered channel of tokens. Stream B is
// cancelled and, while shutting down, drains every token from the pool,
// including the one that stream A is about to wait for. Stream A then blocks
// in main.wait's select until its 1 s context deadline expires. The run takes
// about 1.2 s in total.
//
// Usage: stall OUT.trace
package main

import (
	"context"
	"fmt"
	"os"
	"runtime/trace"
	"sync"
	"time"
)

// pool is the shared quota pool; each token lets a stream send one chunk.
type pool struct {
	tokens chan struct{}
}

func newPool(n int) *pool {
	p := &pool{tokens: make(chan struct{}, n)}
	for i := 0; i < n; i++ {
		p.tokens <- struct{}{}
	}
	return p
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: stall OUT.trace")
		os.Exit(2)
	}
	f, err := os.Create(os.Args[1])
	check(err)
	check(trace.Start(f))

	p := newPool(4)
	// drained is closed by stream B once it has emptied the pool; stream A
	// waits for it before its last chunk, so the stall happens every run.
	drained := make(chan struct{})

	var wg sync.WaitGroup
	ctxB, cancelB := context.WithCancel(context.Background())
	wg.Add(2)
	go stream(&wg, "A", context.Background(), p, 6, drained, nil)
	go stream(&wg, "B", ctxB, p, 1000, nil, drained)

	// Let both streams send for a while, then cancel B.
	time.Sleep(20 * time.Millisecond)
	cancelB()
	wg.Wait()

	// Some quiet time after the stall so the run is about 1.2 s.
	time.Sleep(150 * time.Millisecond)
	trace.Stop()
	check(f.Close())
}

// stream sends up to chunks chunks, taking one token from the pool per chunk
// and giving it back once the chunk is sent. Each acquire waits at most one
// second. If pause is not nil the stream waits for it before its last chunk.
// When its context is cancelled the stream "cleans up" by draining the pool
// (the bug: those tokens were not all its own) and closes cancelled.
func stream(wg *sync.WaitGroup, name string, ctx context.Context, p *pool, chunks int, pause <-chan struct{}, cancelled chan<- struct{}) {
	defer wg.Done()
	for i := 0; i < chunks; i++ {
		if pause != nil && i == chunks-1 {
			<-pause
		}
		if ctx.Err() != nil {
			drain(p)
			if cancelled != nil {
				close(cancelled)
			}
			return
		}
		acquireCtx, cancel := context.WithTimeout(ctx, time.Second)
		err := wait(acquireCtx, p.tokens)
		cancel()
		if err != nil {
			return // no quota within a second: give up on this stream
		}
		send(name, i)
		p.tokens <- struct{}{} // give the token back
	}
}

// wait blocks until a token is available or ctx is done.
func wait(ctx context.Context, ch chan struct{}) error {
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// send pretends to write one chunk of data.
func send(name string, i int) {
	time.Sleep(time.Millisecond)
}

// drain takes every token out of the pool without blocking (the cancelled
// stream's clean-up), leaving none for anyone about to wait.
func drain(p *pool) {
	for {
		select {
		case <-p.tokens:
		default:
			return
		}
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
