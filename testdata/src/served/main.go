// Command served is a small service that imports net/http/pprof and serves it on
// 127.0.0.1, so that its trace is captured from outside, the way a user captures
// one from a running program: `goscope capture http://ADDR --seconds 2`.
//
// It listens on an ephemeral port of 127.0.0.1, writes "http://ADDR" to ADDR_FILE
// once it serves, and keeps itself busy until killed (or for a minute): a client
// asks its /work endpoint about 160 times a second (JSON, hashing, a mutex
// around a cache), a ticker fans work out to a pool of goroutines, and a
// background loop allocates so that the GC runs. With GOMAXPROCS 2.
//
// Usage: served ADDR_FILE
package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

const lifetime = time.Minute

type cache struct {
	mu sync.Mutex
	m  map[string][32]byte
}

func (c *cache) sum(key string) [32]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.m[key]; ok {
		return v
	}
	v := sha256.Sum256([]byte(key))
	for i := 0; i < 200; i++ {
		v = sha256.Sum256(v[:])
	}
	if len(c.m) > 512 {
		c.m = map[string][32]byte{}
	}
	c.m[key] = v
	return v
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: served ADDR_FILE")
		os.Exit(2)
	}
	runtime.GOMAXPROCS(2)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	c := &cache{m: map[string][32]byte{}}
	http.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		sum := c.sum(strconv.Itoa(n % 700))
		w.Header().Set("Content-Type", "application/json")
		check(json.NewEncoder(w).Encode(map[string]any{"n": n, "sum": fmt.Sprintf("%x", sum[:8])}))
	})
	go func() { check(http.Serve(ln, nil)) }()
	addr := "http://" + ln.Addr().String()

	go client(addr)
	go fanout()
	go allocate()

	check(os.WriteFile(os.Args[1]+".tmp", []byte(addr+"\n"), 0o644))
	check(os.Rename(os.Args[1]+".tmp", os.Args[1]))
	time.Sleep(lifetime)
}

// client asks /work about 160 times a second over a kept-alive connection.
func client(addr string) {
	tick := time.NewTicker(6 * time.Millisecond)
	for n := 0; ; n++ {
		<-tick.C
		resp, err := http.Get(addr + "/work?n=" + strconv.Itoa(n))
		if err != nil {
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// fanout hands a batch of work to eight goroutines every 50 ms and waits for them.
func fanout() {
	tick := time.NewTicker(50 * time.Millisecond)
	for range tick.C {
		var wg sync.WaitGroup
		results := make(chan int, 8)
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				s := 0
				for j := 0; j < 20000*(i+1); j++ {
					s += j % (i + 3)
				}
				results <- s
			}(i)
		}
		wg.Wait()
		close(results)
		for range results {
		}
	}
}

// allocate keeps about 1 MB live and churns through 25 MB a second, so the GC runs.
func allocate() {
	keep := make([][]byte, 64)
	for i := 0; ; i++ {
		keep[i%len(keep)] = make([]byte, 16<<10)
		if i%16 == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
