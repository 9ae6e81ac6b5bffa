// Command net writes an execution trace of a tiny line-based TCP echo service
// on 127.0.0.1: a server goroutine per connection and a few clients doing
// request/response round trips. Both sides spend most of their time blocked
// on the network and are woken by the netpoller.
//
// Usage: net OUT.trace
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"runtime/trace"
	"strings"
	"sync"
	"time"
)

const (
	clients  = 3
	requests = 10
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: net OUT.trace")
		os.Exit(2)
	}
	f, err := os.Create(os.Args[1])
	check(err)
	check(trace.Start(f))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	go serve(ln)

	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			client(ln.Addr().String(), id)
		}(i)
	}
	wg.Wait()
	ln.Close()

	trace.Stop()
	check(f.Close())
}

// serve accepts connections until the listener is closed.
func serve(ln net.Listener) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return // listener closed
		}
		go handle(conn)
	}
}

// handle answers each request line with its upper-case version. Every
// tenth request takes a little longer, as if it did some work.
func handle(conn net.Conn) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	for n := 0; ; n++ {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if n%10 == 9 {
			time.Sleep(200 * time.Microsecond)
		}
		if _, err := conn.Write([]byte(strings.ToUpper(line))); err != nil {
			return
		}
	}
}

// client dials the server and performs a number of request/response
// exchanges, waiting for each reply before sending the next request.
func client(addr string, id int) {
	conn, err := net.Dial("tcp", addr)
	check(err)
	defer conn.Close()
	r := bufio.NewReader(conn)
	for i := 0; i < requests; i++ {
		fmt.Fprintf(conn, "hello %d from client %d\n", i, id)
		reply, err := r.ReadString('\n')
		check(err)
		if !strings.HasPrefix(reply, "HELLO") {
			panic("bad reply " + reply)
		}
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
