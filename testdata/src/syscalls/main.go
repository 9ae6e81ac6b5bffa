// Command syscalls writes an execution trace full of system calls: file
// writes, reads and fsync in a temporary directory, reads from an os.Pipe
// that block until a writer shows up, and running /bin/true as a child
// process. Slow syscalls make their goroutine's P get handed off (or stolen)
// while the goroutine sits in the kernel.
//
// Usage: syscalls OUT.trace
package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/trace"
	"sync"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: syscalls OUT.trace")
		os.Exit(2)
	}
	f, err := os.Create(os.Args[1])
	check(err)
	check(trace.Start(f))

	dir, err := os.MkdirTemp("", "goscope-syscalls-")
	check(err)
	defer os.RemoveAll(dir)

	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			fileWork(filepath.Join(dir, fmt.Sprintf("file%d", i)))
		}(i)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		pipeWork()
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		runChildren(3)
	}()
	wg.Wait()

	trace.Stop()
	check(f.Close())
}

// fileWork writes a file in chunks with an fsync after each chunk, then
// reads it back.
func fileWork(path string) {
	f, err := os.Create(path)
	check(err)
	chunk := make([]byte, 64<<10)
	for i := range chunk {
		chunk[i] = byte(i)
	}
	for i := 0; i < 8; i++ {
		_, err := f.Write(chunk)
		check(err)
		check(f.Sync())
	}
	check(f.Close())

	f, err = os.Open(path)
	check(err)
	buf := make([]byte, 16<<10)
	for {
		_, err := f.Read(buf)
		if err == io.EOF {
			break
		}
		check(err)
	}
	check(f.Close())
}

// pipeWork has a reader block on a pipe while a writer dribbles data into it
// with pauses, twice: once with os.Pipe, whose ends are non-blocking and
// pollable, so the reader parks in the netpoller; once with a raw
// syscall.Pipe left in blocking mode, so the reader sits in read(2) and its
// P is taken away by sysmon.
func pipeWork() {
	r, w, err := os.Pipe()
	check(err)
	dribble(r, w)

	var fds [2]int
	check(syscall.Pipe(fds[:]))
	// os.NewFile keeps a blocking descriptor in blocking mode.
	dribble(os.NewFile(uintptr(fds[0]), "blocking-r"), os.NewFile(uintptr(fds[1]), "blocking-w"))
}

// dribble copies from r to nowhere in a goroutine while writing a few short
// messages to w with pauses in between.
func dribble(r, w *os.File) {
	done := make(chan int)
	go func() {
		n, err := io.Copy(io.Discard, r)
		check(err)
		done <- int(n)
	}()
	for i := 0; i < 10; i++ {
		time.Sleep(2 * time.Millisecond)
		_, err := w.Write([]byte("some bytes through the pipe\n"))
		check(err)
	}
	check(w.Close())
	<-done
	check(r.Close())
}

// runChildren runs /bin/true (or `true` from PATH) a few times: fork/exec and
// wait4 are blocking syscalls.
func runChildren(n int) {
	path := "/bin/true"
	if _, err := os.Stat(path); err != nil {
		if path, err = exec.LookPath("true"); err != nil {
			return // no true(1) here; skip
		}
	}
	for i := 0; i < n; i++ {
		check(exec.Command(path).Run())
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
