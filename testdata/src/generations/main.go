// Command generations writes a trace cut into many short generations, for
// goscope's tests of what is rebuilt one generation at a time (windows built
// from the state saved at each generation's start).
//
// The runtime starts a new generation about every traceadvanceperiod
// nanoseconds (a GODEBUG setting, one second by default). The program runs
// itself again with it set to 10 ms, then keeps a few goroutines busy for
// about 0.4 s: channel ping-pong, timers, allocation (so GC cycles cross
// generation boundaries), a mutex, and writes to a file (syscalls). Goroutines
// start and end throughout, so lanes begin and end inside generations and
// spans cross their boundaries.
//
// Usage: generations OUT.trace
package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime/trace"
	"strings"
	"sync"
	"time"
)

const period = "traceadvanceperiod=10000000"

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: generations OUT.trace")
		os.Exit(2)
	}
	if !strings.Contains(os.Getenv("GODEBUG"), period) {
		again := exec.Command(os.Args[0], os.Args[1])
		again.Env = append(os.Environ(), "GODEBUG="+period)
		again.Stdout, again.Stderr = os.Stdout, os.Stderr
		if err := again.Run(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	f, err := os.Create(os.Args[1])
	check(err)
	check(trace.Start(f))

	deadline := time.Now().Add(250 * time.Millisecond)
	var wg sync.WaitGroup
	var mu sync.Mutex
	shared := 0

	// Ping-pong between two goroutines.
	ping, pong := make(chan int), make(chan int)
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; time.Now().Before(deadline); i++ {
			ping <- i
			<-pong
			if i%50 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		close(ping)
	}()
	go func() {
		defer wg.Done()
		for v := range ping {
			pong <- v + 1
		}
	}()

	// Allocation, so that GC cycles run across generations.
	wg.Add(1)
	go func() {
		defer wg.Done()
		var keep [][]byte
		for time.Now().Before(deadline) {
			keep = append(keep, make([]byte, 64<<10))
			if len(keep) > 64 {
				keep = keep[:0]
			}
			time.Sleep(200 * time.Microsecond)
		}
	}()

	// Short-lived workers under a mutex, started every few milliseconds.
	wg.Add(1)
	go func() {
		defer wg.Done()
		var workers sync.WaitGroup
		for time.Now().Before(deadline) {
			for k := 0; k < 3; k++ {
				workers.Add(1)
				go func() {
					defer workers.Done()
					for j := 0; j < 20; j++ {
						mu.Lock()
						shared++
						mu.Unlock()
					}
					time.Sleep(2 * time.Millisecond)
				}()
			}
			time.Sleep(7 * time.Millisecond)
		}
		workers.Wait()
	}()

	// Syscalls: small writes to a scratch file.
	wg.Add(1)
	go func() {
		defer wg.Done()
		tmp, err := os.CreateTemp("", "generations")
		check(err)
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		for time.Now().Before(deadline) {
			_, err := tmp.Write([]byte("goscope\n"))
			check(err)
			time.Sleep(3 * time.Millisecond)
		}
	}()

	wg.Wait()
	trace.Stop()
	check(f.Close())
	if shared == 0 {
		fmt.Fprintln(os.Stderr, "no worker ran")
		os.Exit(1)
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
