// Command basic writes a small execution trace exercising the everyday
// synchronisation primitives: goroutine creation and exit, unbuffered and
// buffered channels, select, sync.Mutex contention, sync.WaitGroup,
// sync.Cond and runtime.Gosched.
//
// Usage: basic OUT.trace
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/trace"
	"sync"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: basic OUT.trace")
		os.Exit(2)
	}
	f, err := os.Create(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := trace.Start(f); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}

	pingPong(20)
	producerConsumer(4, 50)
	selectLoop(30)
	mutexContention(4, 40)
	condBroadcast(3)
	yielders(3, 10)

	trace.Stop()
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// pingPong bounces a value between two goroutines over unbuffered channels,
// so every send blocks until the peer receives.
func pingPong(rounds int) {
	ping, pong := make(chan int), make(chan int)
	done := make(chan struct{})
	go func() {
		for v := range ping {
			pong <- v + 1
		}
		close(done)
	}()
	v := 0
	for i := 0; i < rounds; i++ {
		ping <- v
		v = <-pong
	}
	close(ping)
	<-done
}

// producerConsumer runs n producers writing into a small buffered channel and
// one consumer; the buffer fills up so producers block now and then.
func producerConsumer(n, items int) {
	ch := make(chan int, 4)
	var wg sync.WaitGroup
	for p := 0; p < n; p++ {
		wg.Add(1)
		go producer(&wg, ch, items)
	}
	sum := make(chan int)
	go consumer(ch, sum)
	wg.Wait()
	close(ch)
	<-sum
}

func producer(wg *sync.WaitGroup, ch chan<- int, items int) {
	defer wg.Done()
	for i := 0; i < items; i++ {
		ch <- i
	}
}

func consumer(ch <-chan int, out chan<- int) {
	total := 0
	for v := range ch {
		total += v
		if v%10 == 0 {
			// Be slow occasionally so the buffer fills.
			time.Sleep(50 * time.Microsecond)
		}
	}
	out <- total
}

// selectLoop multiplexes two channels and a quit channel with select.
func selectLoop(n int) {
	a, b := make(chan int), make(chan string)
	quit := make(chan struct{})
	go func() {
		for i := 0; i < n; i++ {
			if i%2 == 0 {
				a <- i
			} else {
				b <- fmt.Sprint(i)
			}
		}
		close(quit)
	}()
	for {
		select {
		case <-a:
		case <-b:
		case <-quit:
			return
		}
	}
}

// mutexContention has several goroutines fight over one mutex while holding
// it for a little while, so some of them block in sync.Mutex.Lock.
func mutexContention(workers, iters int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	counter := 0
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < iters; i++ {
				mu.Lock()
				counter++
				spin(20 * time.Microsecond)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// condBroadcast parks waiters on a sync.Cond and wakes them all at once.
func condBroadcast(waiters int) {
	var mu sync.Mutex
	cond := sync.NewCond(&mu)
	ready := false
	var wg sync.WaitGroup
	for i := 0; i < waiters; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mu.Lock()
			for !ready {
				cond.Wait()
			}
			mu.Unlock()
		}()
	}
	time.Sleep(time.Millisecond) // let them all park
	mu.Lock()
	ready = true
	cond.Broadcast()
	mu.Unlock()
	wg.Wait()
}

// yielders are goroutines that call runtime.Gosched in a loop and then exit.
func yielders(n, loops int) {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < loops; j++ {
				spin(5 * time.Microsecond)
				runtime.Gosched()
			}
		}()
	}
	wg.Wait()
}

// spin burns CPU for roughly d without blocking.
func spin(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}
