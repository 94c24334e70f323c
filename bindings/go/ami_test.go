package ami

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// startSim runs ami-sim ($AMI_SIM or the checkout's release build) on a free port.
func startSim(t *testing.T, args ...string) string {
	t.Helper()
	return startSimLines(t, 1, args...)[0]
}

// startHTTPSim runs ami-sim with its HTTP side too; returns that address.
func startHTTPSim(t *testing.T) string {
	t.Helper()
	return startSimLines(t, 2, "--http", "127.0.0.1:0")[1]
}

// startSimLines starts ami-sim and returns the addresses of its first n lines.
func startSimLines(t *testing.T, n int, args ...string) []string {
	t.Helper()
	path := os.Getenv("AMI_SIM")
	if path == "" {
		path, _ = filepath.Abs("../../target/release/ami-sim")
	}
	cmd := exec.Command(path, append([]string{"--listen", "127.0.0.1:0", "--quiet"}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v (run cargo build --release or set AMI_SIM)", path, err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	r := bufio.NewReader(out)
	var addrs []string
	for _, prefix := range []string{"listening on ", "http on "}[:n] {
		line, err := r.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, prefix) {
			t.Fatalf("ami-sim said %q, %v", line, err)
		}
		addrs = append(addrs, strings.TrimSpace(strings.TrimPrefix(line, prefix)))
	}
	return addrs
}

func dial(t *testing.T, addr string, opts ...Option) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, addr, append([]Option{WithLogin("admin", "admin")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestPingAndList(t *testing.T) {
	c := dial(t, startSim(t))
	if c.Banner() != "Asterisk Call Manager/5.0.2" {
		t.Fatalf("banner %q", c.Banner())
	}
	ctx := context.Background()
	pong, err := c.Action(ctx, "Ping")
	if err != nil || pong.Get("ping") != "Pong" || !pong.IsSuccess() {
		t.Fatalf("ping: %v %+v", err, pong)
	}
	q, err := c.Action(ctx, "QueueStatus")
	if err != nil || len(q.Events) != 3 || q.Events[2].Get("Event") != "QueueStatusComplete" {
		t.Fatalf("queue status: %v %+v", err, q)
	}
	out, err := c.Action(ctx, "Command", "Command", "core show uptime")
	if err != nil || len(out.GetAll("Output")) != 2 {
		t.Fatalf("command: %v %+v", err, out)
	}
	r, err := c.Send(ctx, "Originate", []Header{{"Channel", "Local/200@default"}, {"Application", "Wait"}, {"Async", "true"}}, "OriginateResponse")
	if err != nil || r.Get("Event") != "OriginateResponse" || r.Get("Response") != "Success" {
		t.Fatalf("originate: %v %+v", err, r)
	}
}

func TestErrorsAreValues(t *testing.T) {
	addr := startSim(t)
	ctx := context.Background()
	if _, err := Dial(ctx, addr, WithLogin("admin", "wrong")); !errors.Is(err, ErrAuth) {
		t.Fatalf("wrong secret: %v", err)
	}
	if _, err := Dial(ctx, "127.0.0.1:1"); !errors.Is(err, ErrConnect) {
		t.Fatalf("refused: %v", err)
	}
	if _, err := Dial(ctx, startSim(t, "--fault", "wrong-banner")); !errors.Is(err, ErrNotAMI) {
		t.Fatalf("not AMI: %v", err)
	}
	var amiErr *Error
	_, err := Dial(ctx, addr, WithOption("no_such_option", "1"))
	if !errors.Is(err, ErrInvalid) || !errors.As(err, &amiErr) || !strings.Contains(amiErr.Detail, "no_such_option") {
		t.Fatalf("bad option: %v", err)
	}
	c := dial(t, addr)
	if _, err := c.Action(ctx, "Ping", "ActionID", "x\r\nAction: Logoff"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("CR/LF: %v", err)
	}
	if _, err := c.Action(ctx, "Ping", "odd"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("odd headers: %v", err)
	}
	c.Close()
	c.Close() // idempotent
	if _, err := c.Action(ctx, "Ping"); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
}

func TestContextsBoundCalls(t *testing.T) {
	addr := startSim(t)
	c := dial(t, addr, WithOption("action_timeout_ms", "200"))
	if _, err := c.Action(context.Background(), "SimFault", "Mode", "stall"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Action(context.Background(), "Ping"); !errors.Is(err, ErrTimeout) {
		t.Fatalf("library deadline: %v", err)
	}
	c2 := dial(t, addr)
	c2.Action(context.Background(), "SimFault", "Mode", "stall")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := c2.Action(ctx, "Ping"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("context deadline: %v", err)
	}
	stalled := startSim(t, "--fault", "stall")
	ctx2, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	start := time.Now()
	if _, err := Dial(ctx2, stalled, WithOption("connect_timeout_ms", "1000")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("dial deadline: %v", err)
	}
	if time.Since(start) > time.Second {
		t.Fatalf("Dial took %v after its context ended", time.Since(start))
	}
	time.Sleep(1200 * time.Millisecond) // the abandoned client closes itself meanwhile
}

func TestEventsOnAChannelInOrder(t *testing.T) {
	c := dial(t, startSim(t))
	ctx := context.Background()
	for i := 0; i < 100; i++ {
		if _, err := c.Action(ctx, "UserEvent", "UserEvent", "Go", "Seq", fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	next := 0
	timeout := time.After(5 * time.Second)
	for next < 100 {
		select {
		case ev := <-c.Events():
			if ev.Get("Event") != "UserEvent" {
				continue
			}
			if ev.Get("Seq") != fmt.Sprint(next) {
				t.Fatalf("event %d out of order: %+v", next, ev)
			}
			next++
		case <-timeout:
			t.Fatalf("only %d events", next)
		}
	}
	c.Close()
	for range c.Events() { // closed by Close
	}
}

func TestConcurrentUse(t *testing.T) {
	c := dial(t, startSim(t), WithOption("events", "off"))
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				if r, err := c.Action(context.Background(), "Ping"); err != nil || r.Get("Ping") != "Pong" {
					errs <- fmt.Errorf("ping: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestCloseWithUndrainedEvents(t *testing.T) {
	// Nobody drains Events: one event in the channel, a batch (at most
	// batchSize) held by the pump, ten in libami's queue, the rest dropped.
	c := dial(t, startSim(t), WithEventBuffer(1), WithOption("event_queue_limit", "10"))
	if _, err := c.Action(context.Background(), "SimFlood", "Count", "5000"); err != nil {
		t.Fatal(err) // answers although nobody drains Events
	}
	least := uint64(5000 - 1 - batchSize - 10)
	deadline := time.Now().Add(5 * time.Second)
	for c.DroppedEvents() < least && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if c.DroppedEvents() < least {
		t.Fatalf("dropped %d", c.DroppedEvents())
	}
	if r, err := c.Action(context.Background(), "Ping"); err != nil || r.Get("Ping") != "Pong" {
		t.Fatalf("ping with a full channel: %v", err)
	}
	done := make(chan struct{})
	go func() { c.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hung on an undrained Events channel")
	}
}

func TestTheSameClientOverHTTP(t *testing.T) {
	addr := startHTTPSim(t)
	for _, path := range []string{"/rawman", "/arawman"} {
		http := []Option{WithOption("transport", "http"), WithOption("http_path", path)}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := Dial(ctx, addr, append([]Option{WithLogin("admin", "wrong")}, http...)...)
		cancel()
		var e *Error
		if !errors.As(err, &e) || e.Status != 4 {
			t.Fatalf("%s: wrong secret gave %v", path, err)
		}
		c := dial(t, addr, http...)
		if !strings.HasPrefix(c.Banner(), "Asterisk/") {
			t.Fatalf("%s: banner %q", path, c.Banner())
		}
		ctx = context.Background()
		if pong, err := c.Action(ctx, "Ping"); err != nil || pong.Get("Ping") != "Pong" {
			t.Fatalf("%s: ping: %v %+v", path, err, pong)
		}
		if q, err := c.Action(ctx, "QueueStatus"); err != nil || len(q.Events) != 3 {
			t.Fatalf("%s: queue status: %v %+v", path, err, q)
		}
		r, err := c.Send(ctx, "Originate", []Header{{"Channel", "Local/200@default"}, {"Application", "Wait"}, {"Async", "true"}}, "OriginateResponse")
		if err != nil || r.Get("Response") != "Success" {
			t.Fatalf("%s: originate: %v %+v", path, err, r)
		}
		for i := 0; i < 20; i++ {
			if _, err := c.Action(ctx, "UserEvent", "UserEvent", "GoHTTP", "Seq", fmt.Sprint(i)); err != nil {
				t.Fatal(err)
			}
		}
		next := 0
		timeout := time.After(10 * time.Second)
		for next < 20 {
			select {
			case ev := <-c.Events():
				if ev.Get("UserEvent") != "GoHTTP" {
					continue
				}
				if ev.Get("Seq") != fmt.Sprint(next) {
					t.Fatalf("%s: event %d out of order: %+v", path, next, ev)
				}
				next++
			case <-timeout:
				t.Fatalf("%s: only %d events", path, next)
			}
		}
		c.Close()
	}
}

func TestFullPastMaxPending(t *testing.T) {
	c := dial(t, startSim(t), WithOption("max_pending", "3"))
	ctx := context.Background()
	if _, err := c.Action(ctx, "SimFault", "Mode", "stall"); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 10)
	for i := 0; i < 10; i++ {
		go func() {
			_, err := c.Action(ctx, "Ping") // three are held by the stalled server until Close
			errs <- err
		}()
	}
	timeout := time.After(5 * time.Second)
	for full := 0; full < 7; {
		select {
		case err := <-errs:
			if !errors.Is(err, ErrFull) {
				t.Fatalf("want ErrFull, got %v", err)
			}
			full++
		case <-timeout:
			t.Fatalf("only %d of 7 sends were refused", full)
		}
	}
	c.Close()
	for i := 0; i < 3; i++ {
		if err := <-errs; !errors.Is(err, ErrClosed) {
			t.Fatalf("a held action ended with %v", err)
		}
	}
}

// The hostile-server matrix (tests/hostile.rs, tests/c/test_hostile.c): a
// fault, the probe action, how it must end, and whether the client carries on.
func TestHostileServers(t *testing.T) {
	matrix := []struct {
		fault, probe string
		want         error
		carries      bool
	}{
		{"duplicate-response", "Ping", nil, true},
		{"unknown-id", "Ping", nil, true},
		{"open-list", "CoreShowChannels", ErrTimeout, true},
		{"interleave", "QueueStatus", nil, true},
		{"nul-utf8", "Ping", nil, true},
		{"reset-mid-message", "Ping", ErrDisconnected, false},
		{"close-mid-message", "Ping", ErrDisconnected, false},
		{"endless-line", "Ping", ErrProtocol, false},
		{"million-headers", "Ping", ErrProtocol, false},
		{"huge", "Ping", ErrProtocol, false},
	}
	addr := startSim(t)
	ctx := context.Background()
	for _, row := range matrix {
		c := dial(t, addr, WithOption("action_timeout_ms", "500"))
		if _, err := c.Action(ctx, "SimFault", "Mode", row.fault); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		r, err := c.Action(ctx, row.probe)
		if row.want == nil && (err != nil || !r.IsSuccess()) || row.want != nil && !errors.Is(err, row.want) {
			t.Fatalf("%s: want %v, got %v %+v", row.fault, row.want, err, r)
		}
		if time.Since(start) > 3*time.Second {
			t.Fatalf("%s: took %v", row.fault, time.Since(start))
		}
		_, err = c.Action(ctx, "Ping")
		if row.carries != (err == nil) {
			t.Fatalf("%s: after the fault, Ping gave %v", row.fault, err)
		}
		c.Close()
	}
}

func TestFromWireSplitsAsTheDecoderDoes(t *testing.T) {
	m := fromWire("Event: X\r\nEmpty: \r\nNoSpace:v\r\nBare\r\nValue: a: b\r\nLast: z")
	want := []Header{{"Event", "X"}, {"Empty", ""}, {"NoSpace", "v"}, {"Bare", ""}, {"Value", "a: b"}, {"Last", "z"}}
	if len(m.Headers) != len(want) {
		t.Fatalf("%+v", m.Headers)
	}
	for i, h := range want {
		if m.Headers[i] != h {
			t.Fatalf("header %d: %+v, want %+v", i, m.Headers[i], h)
		}
	}
}
