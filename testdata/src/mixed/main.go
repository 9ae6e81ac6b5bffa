// Command mixed writes an execution trace of a small "service" that does a
// little of everything for about half a second: an HTTP server and client on
// 127.0.0.1, a worker pool fed by a job queue, a mutex-protected cache,
// allocation with GC, timers and tickers, file I/O, user tasks, regions and
// logs, and a pipeline of stages connected by channels. It is meant as an
// "unseen program" check: nothing in goscope should be tuned to it.
//
// Usage: mixed OUT.trace
package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/trace"
	"sort"
	"strconv"
	"sync"
	"time"
)

const runFor = 450 * time.Millisecond

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mixed OUT.trace")
		os.Exit(2)
	}
	runtime.GOMAXPROCS(3)
	f, err := os.Create(os.Args[1])
	check(err)
	check(trace.Start(f))

	ctx, cancel := context.WithTimeout(context.Background(), runFor)
	defer cancel()

	c := newCache()
	jobs := make(chan job, 8)
	var wg sync.WaitGroup

	// HTTP front end.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	srv := &http.Server{Handler: handler(c, jobs)}
	go srv.Serve(ln)

	// Worker pool.
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go worker(&wg, i, jobs, c)
	}

	// Background activities, all stopping when ctx is done.
	var bg sync.WaitGroup
	janitorFn := func(ctx context.Context) { janitor(ctx, c) }
	for _, fn := range []func(context.Context){janitorFn, logWriter, pipeline} {
		bg.Add(1)
		go func(fn func(context.Context)) {
			defer bg.Done()
			fn(ctx)
		}(fn)
	}

	// Clients hammer the server until the deadline.
	var clients sync.WaitGroup
	for i := 0; i < 3; i++ {
		clients.Add(1)
		go func(id int) {
			defer clients.Done()
			client(ctx, "http://"+ln.Addr().String(), id)
		}(i)
	}
	clients.Wait()
	bg.Wait()

	// Close, not Shutdown: a client cancelled between dial and request
	// leaves a "new" connection that Shutdown would wait on for seconds.
	srv.Close()
	close(jobs)
	wg.Wait()

	trace.Stop()
	check(f.Close())
}

// job is a unit of background work submitted by the HTTP handler.
type job struct {
	key  string
	data []byte
}

// cache is a mutex-protected map shared by handlers, workers and the janitor.
type cache struct {
	mu sync.Mutex
	m  map[string][]byte
}

func newCache() *cache { return &cache{m: make(map[string][]byte)} }

func (c *cache) get(k string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

func (c *cache) put(k string, v []byte) {
	c.mu.Lock()
	c.m[k] = v
	c.mu.Unlock()
}

// handler serves /item/N: a cache hit answers directly, a miss computes the
// value, stores it and queues a background job.
func handler(c *cache, jobs chan<- job) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/item/", func(w http.ResponseWriter, r *http.Request) {
		ctx, task := trace.NewTask(r.Context(), "item")
		defer task.End()
		key := r.URL.Path[len("/item/"):]
		if v, ok := c.get(key); ok {
			trace.Log(ctx, "cache", "hit")
			w.Write(v)
			return
		}
		trace.Log(ctx, "cache", "miss")
		var body []byte
		trace.WithRegion(ctx, "compute", func() {
			n, _ := strconv.Atoi(key)
			body, _ = json.Marshal(map[string]any{"key": key, "squares": squares(n % 200)})
		})
		c.put(key, body)
		select {
		case jobs <- job{key: key, data: body}:
		default:
			trace.Log(ctx, "queue", "full, dropped")
		}
		w.Write(body)
	})
	return mux
}

func squares(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i * i
	}
	return out
}

// worker hashes job payloads repeatedly (CPU and allocation).
func worker(wg *sync.WaitGroup, id int, jobs <-chan job, c *cache) {
	defer wg.Done()
	for j := range jobs {
		sum := sha256.Sum256(j.data)
		for i := 0; i < 50; i++ {
			sum = sha256.Sum256(append(sum[:], j.data...))
		}
		c.put("hash/"+j.key, sum[:])
	}
}

// client issues GET requests with a small think time between them.
func client(ctx context.Context, base string, id int) {
	hc := &http.Client{Timeout: time.Second}
	for i := 0; ctx.Err() == nil; i++ {
		req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/item/%d", base, (i*7+id)%60), nil)
		check(err)
		resp, err := hc.Do(req)
		if err != nil {
			return // deadline reached mid-request
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		select {
		case <-time.After(time.Duration(500+id*300) * time.Microsecond):
		case <-ctx.Done():
		}
	}
}

// janitor periodically evicts every other key of the cache, sorting the
// keys under the lock (so handlers and workers contend with it).
func janitor(ctx context.Context, c *cache) {
	t := time.NewTicker(25 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c.mu.Lock()
		keys := make([]string, 0, len(c.m))
		for k := range c.m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i := 0; i < len(keys); i += 2 {
			delete(c.m, keys[i])
		}
		c.mu.Unlock()
	}
}

// logWriter appends lines to a file in the temp dir and fsyncs every so often.
func logWriter(ctx context.Context) {
	dir, err := os.MkdirTemp("", "goscope-mixed-")
	check(err)
	defer os.RemoveAll(dir)
	f, err := os.Create(filepath.Join(dir, "log"))
	check(err)
	defer f.Close()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Millisecond):
		}
		fmt.Fprintf(f, "%s line %d\n", time.Now().Format(time.RFC3339Nano), i)
		if i%5 == 4 {
			check(f.Sync())
		}
	}
}

// pipeline: generate -> transform (2 goroutines) -> collect, over channels.
func pipeline(ctx context.Context) {
	ctx, task := trace.NewTask(ctx, "pipeline")
	defer task.End()
	src := make(chan []int)
	out := make(chan int, 4)
	go func() {
		defer close(src)
		for i := 0; ; i++ {
			batch := make([]int, 256)
			for j := range batch {
				batch[j] = i + j
			}
			select {
			case src <- batch:
			case <-ctx.Done():
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	var tw sync.WaitGroup
	for i := 0; i < 2; i++ {
		tw.Add(1)
		go func() {
			defer tw.Done()
			for b := range src {
				trace.WithRegion(ctx, "transform", func() {
					s := 0
					for _, v := range b {
						s += v * v
					}
					out <- s
				})
			}
		}()
	}
	go func() {
		tw.Wait()
		close(out)
	}()
	total := 0
	for v := range out {
		total += v
	}
	trace.Logf(ctx, "pipeline", "total=%d", total)
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
