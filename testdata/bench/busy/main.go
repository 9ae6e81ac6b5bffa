// Command busy writes a large, dense execution trace for goscope's
// benchmarks: many goroutines doing channel ping-pong, contended mutexes,
// allocation (so GC runs often), request/response traffic over TCP on
// 127.0.0.1, and timers, for a given number of seconds.
//
// Usage: busy OUT.trace [SECONDS [GOMAXPROCS [SCALE]]]
//
// SECONDS defaults to 5, GOMAXPROCS to 4 (2..4 are the intended values) and
// SCALE (a multiplier for the number of goroutines of each kind) to 1.
package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/trace"
	"strconv"
	"sync"
	"time"
)

func main() {
	if len(os.Args) < 2 || len(os.Args) > 5 {
		fmt.Fprintln(os.Stderr, "usage: busy OUT.trace [SECONDS [GOMAXPROCS [SCALE]]]")
		os.Exit(2)
	}
	seconds := argFloat(2, 5)
	procs := int(argFloat(3, 4))
	scale := int(argFloat(4, 1))
	runtime.GOMAXPROCS(procs)

	f, err := os.Create(os.Args[1])
	check(err)
	w := bufio.NewWriterSize(f, 1<<20)
	check(trace.Start(w))

	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(seconds*float64(time.Second)))
	defer cancel()

	var wg sync.WaitGroup
	spawn := func(n int, fn func(ctx context.Context, i int)) {
		for i := 0; i < n*scale; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				fn(ctx, i)
			}(i)
		}
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	go serve(ln)
	addr := ln.Addr().String()

	spawn(8, pingPong)
	spawn(8, func(ctx context.Context, i int) { lockers(ctx, i) })
	spawn(4, allocator)
	spawn(16, func(ctx context.Context, i int) { netClient(ctx, addr) })
	spawn(32, sleeper)
	wg.Wait()
	ln.Close()

	trace.Stop()
	check(w.Flush())
	check(f.Close())
}

// pingPong bounces a counter between this goroutine and a partner over
// unbuffered channels until ctx is done. It is paced to roundsPerSecond
// (catching up without sleeping when behind), so the size of the trace
// depends on the run time more than on how fast or busy the machine is.
func pingPong(ctx context.Context, _ int) {
	const (
		roundsPerSecond = 60000
		burst           = 50
		interval        = time.Second * burst / roundsPerSecond
	)
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- think(v, 100)
		}
	}()
	defer close(ping)
	next := time.Now()
	for v := 0; ctx.Err() == nil; {
		for k := 0; k < burst; k++ {
			ping <- v
			v = <-pong
			v = think(v, 100)
		}
		next = next.Add(interval)
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
	}
}

// think does about n iterations of arithmetic: a little CPU time between
// events.
func think(v, n int) int {
	for i := 0; i < n; i++ {
		v = v*31 + i
	}
	return v & 0xffff
}

// shared mutexes, a few per group of lockers, so they contend.
var locks [4]struct {
	sync.Mutex
	n int
}

// lockers take one of the shared mutexes, work briefly, and yield.
func lockers(ctx context.Context, i int) {
	l := &locks[i%len(locks)]
	for ctx.Err() == nil {
		for k := 0; k < 100; k++ {
			l.Lock()
			l.n++
			for j := 0; j < 50; j++ {
				l.n ^= j
			}
			l.Unlock()
		}
		runtime.Gosched()
	}
}

// allocator churns the heap with short-lived lists and maps.
func allocator(ctx context.Context, _ int) {
	type node struct {
		next *node
		pad  [64]byte
	}
	var keep *node
	for ctx.Err() == nil {
		var head *node
		for i := 0; i < 1000; i++ {
			head = &node{next: head}
		}
		m := make(map[string]int, 64)
		for i := 0; i < 64; i++ {
			m[strconv.Itoa(i)] = i
		}
		keep = head
	}
	_ = keep
}

// serve echoes lines back on each accepted connection.
func serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func(c net.Conn) {
			defer c.Close()
			r := bufio.NewReader(c)
			for {
				line, err := r.ReadBytes('\n')
				if err != nil {
					return
				}
				if _, err := c.Write(line); err != nil {
					return
				}
			}
		}(c)
	}
}

// netClient does request/response round trips over one TCP connection.
func netClient(ctx context.Context, addr string) {
	c, err := net.Dial("tcp", addr)
	check(err)
	defer c.Close()
	r := bufio.NewReader(c)
	msg := []byte("ping ping ping ping\n")
	for ctx.Err() == nil {
		if _, err := c.Write(msg); err != nil {
			return
		}
		if _, err := r.ReadBytes('\n'); err != nil {
			return
		}
	}
}

// sleeper wakes up on short timers of varying length.
func sleeper(ctx context.Context, i int) {
	d := time.Duration(50+i*37%500) * time.Microsecond
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func argFloat(i int, def float64) float64 {
	if len(os.Args) <= i {
		return def
	}
	v, err := strconv.ParseFloat(os.Args[i], 64)
	check(err)
	return v
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
