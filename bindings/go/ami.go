// Package ami is the Go binding of libami-rs, an Asterisk Manager Interface
// client, over its C API (ami.h) with cgo.
//
//	c, err := ami.Dial(ctx, "127.0.0.1:5038", ami.WithLogin("admin", "admin"))
//	if err != nil { ... }
//	defer c.Close()
//	pong, err := c.Action(ctx, "Ping")
//	for ev := range c.Events() { fmt.Println(ev.Get("Event")) }
//
// The package links the installed libami through pkg-config (make install
// at the repository root, then PKG_CONFIG_PATH=<prefix>/lib/pkgconfig if the
// prefix is not a system one). Inside the checkout, build with
// -tags ami_checkout to link ../../target/release instead (cgo_checkout.go).
package ami

/*
#include <stdlib.h>
#include "ami.h"

void ami_go_response(int status, const struct ami_message *response, void *userdata);
void ami_go_log(int level, uint64_t client, const char *message, void *userdata);
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/cgo"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// Sentinel errors, one per status code: test with errors.Is(err, ami.ErrAuth).
var (
	ErrInvalid      = errors.New("ami: invalid argument")
	ErrConnect      = errors.New("ami: connection failed")
	ErrNotAMI       = errors.New("ami: peer is not an AMI server")
	ErrAuth         = errors.New("ami: login rejected")
	ErrTimeout      = errors.New("ami: timed out")
	ErrDisconnected = errors.New("ami: connection lost")
	ErrProtocol     = errors.New("ami: protocol error")
	ErrTLS          = errors.New("ami: TLS failure")
	ErrClosed       = errors.New("ami: client closed")
	ErrDeadlock     = errors.New("ami: call would deadlock")
	ErrFull         = errors.New("ami: too many actions pending")
	ErrInternal     = errors.New("ami: internal error")
)

var sentinels = map[int]error{
	1: ErrInvalid, 2: ErrConnect, 3: ErrNotAMI, 4: ErrAuth, 5: ErrTimeout, 6: ErrDisconnected,
	7: ErrProtocol, 8: ErrTLS, 9: ErrClosed, 10: ErrDeadlock, 11: ErrFull, 99: ErrInternal,
}

// Error is a libami failure: the C status and ami_last_error's detail.
type Error struct {
	Status int
	Detail string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%v: %s", e.Unwrap(), e.Detail)
}

// Unwrap gives the sentinel of the status, for errors.Is.
func (e *Error) Unwrap() error {
	if s, ok := sentinels[e.Status]; ok {
		return s
	}
	return ErrInternal
}

// check turns a status into an error; it must run on the thread that made
// the call (ami_last_error is thread-local), which cgo guarantees within one call.
func check(status C.int) error {
	if status == 0 {
		return nil
	}
	return &Error{Status: int(status), Detail: C.GoString(C.ami_last_error())}
}

// Header is one name: value pair.
type Header struct{ Name, Value string }

// Message is a response or an event: headers in wire order, duplicates
// kept. Plain Go data, safe to keep and share.
type Message struct {
	Headers []Header
	// Events of a list response (items, then the closing event).
	Events []*Message
}

// Get returns the first value of name (case-insensitive), or "".
func (m *Message) Get(name string) string {
	v, _ := m.Lookup(name)
	return v
}

// Lookup returns the first value of name and whether it is present.
func (m *Message) Lookup(name string) (string, bool) {
	for _, h := range m.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

// GetAll returns every value of name (Output, Variable...).
func (m *Message) GetAll(name string) []string {
	var out []string
	for _, h := range m.Headers {
		if strings.EqualFold(h.Name, name) {
			out = append(out, h.Value)
		}
	}
	return out
}

// IsSuccess reports a Response of Success, Follows or Goodbye.
func (m *Message) IsSuccess() bool {
	r := strings.ToLower(m.Get("Response"))
	return r == "success" || r == "follows" || r == "goodbye"
}

func fromC(p *C.struct_ami_message) *Message {
	// One cgo call for the whole message (its wire form), parsed here: far
	// cheaper than two calls per header.
	raw := C.ami_message_to_string(p)
	m := fromWire(C.GoString(raw))
	C.ami_string_free(raw)
	for i := 0; i < int(C.ami_message_list_count(p)); i++ {
		m.Events = append(m.Events, fromC(C.ami_message_list_at(p, C.size_t(i))))
	}
	return m
}

// nextWire parses the first message of a run of wire-form messages (each
// ending with a blank line) in one pass over its lines, and returns the rest.
func nextWire(wire string) (*Message, string) {
	m := &Message{Headers: make([]Header, 0, 24)}
	for len(wire) > 0 {
		end := strings.IndexByte(wire, '\n')
		if end < 0 {
			return nil, ""
		}
		line := wire[:end]
		wire = wire[end+1:]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if line == "" {
			if len(m.Headers) == 0 {
				continue // stray blank line
			}
			return m, wire
		}
		m.Headers = append(m.Headers, headerOf(line))
	}
	return nil, ""
}

// headerOf parses one "Name: value" line (no colon: a name, no value).
func headerOf(line string) Header {
	colon := strings.IndexByte(line, ':')
	if colon < 0 {
		return Header{Name: line}
	}
	value := line[colon+1:]
	if len(value) > 0 && value[0] == ' ' {
		value = value[1:]
	}
	return Header{Name: line[:colon], Value: value}
}

// fromWire parses one message's wire text ("Name: value" lines). The
// strings share the text's memory: one allocation for the headers slice.
func fromWire(text string) *Message {
	m := &Message{Headers: make([]Header, 0, strings.Count(text, "\n")+1)}
	for len(text) > 0 {
		end := strings.IndexByte(text, '\n')
		line := text
		if end >= 0 {
			line, text = text[:end], text[end+1:]
		} else {
			text = ""
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if line == "" {
			continue
		}
		m.Headers = append(m.Headers, headerOf(line))
	}
	return m
}

// Option configures Dial.
type Option func(*config)

type config struct {
	user, secret string
	login        bool
	options      [][2]string
	buffer       int
	logger       *slog.Logger
}

// WithLogin logs in after connecting.
func WithLogin(user, secret string) Option {
	return func(c *config) { c.user, c.secret, c.login = user, secret, true }
}

// WithOption sets one libami option (as ami_options_set: "auth", "events",
// "action_timeout_ms", ...).
func WithOption(key, value string) Option {
	return func(c *config) { c.options = append(c.options, [2]string{key, value}) }
}

// WithEventBuffer sizes the Events channel (default 65536). Events wait in
// libami's queue while the channel is full; past that queue's limit
// (option event_queue_limit) its overflow policy applies, counted in
// DroppedEvents.
func WithEventBuffer(n int) Option {
	return func(c *config) { c.buffer = n }
}

// WithLogger sends the client's log records to l: state changes, lost
// links, reconnect attempts, errors, dropped events, and, when l is enabled
// for LevelTrace, every message on the wire with secrets masked. The
// client's log_level follows what l is enabled for (WithOption("log_level",
// ...) overrides). Without it the client logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// LevelTrace is the slog level of wire records (below LevelDebug).
const LevelTrace = slog.LevelDebug - 4

// loggers maps a client's ami_client_id to its *slog.Logger.
var (
	loggers   sync.Map
	logHookup sync.Once
)

// logLevelFor is the libami log_level that gives l what it is enabled for.
func logLevelFor(l *slog.Logger) string {
	ctx := context.Background()
	for _, lv := range []struct {
		level slog.Level
		name  string
	}{{LevelTrace, "trace"}, {slog.LevelDebug, "debug"}, {slog.LevelInfo, "info"}, {slog.LevelWarn, "warn"}, {slog.LevelError, "error"}} {
		if l.Enabled(ctx, lv.level) {
			return lv.name
		}
	}
	return "off"
}

//export goLog
func goLog(level C.int, client C.uint64_t, message *C.char) {
	l, ok := loggers.Load(uint64(client))
	if !ok {
		return
	}
	lv := map[C.int]slog.Level{1: slog.LevelError, 2: slog.LevelWarn, 3: slog.LevelInfo, 4: slog.LevelDebug, 5: LevelTrace}[level]
	l.(*slog.Logger).Log(context.Background(), lv, C.GoString(message), "ami_client", uint64(client))
}

// Client is a connection to an AMI server, safe for concurrent use.
type Client struct {
	mu     sync.RWMutex // held for reading while the C handle is in use
	c      *C.struct_ami_client
	events chan *Message
	// quit ends the goroutine that moves events from libami's queue to Events.
	quit chan struct{}
	once sync.Once
	// id is the client's ami_client_id while it has a logger (else 0).
	id uint64
}

// Dial connects to addr ("host:port"), logs in if WithLogin is given, and
// starts delivering events on Events(). ctx bounds the whole dial.
func Dial(ctx context.Context, addr string, opts ...Option) (*Client, error) {
	cfg := config{buffer: 65536}
	for _, o := range opts {
		o(&cfg)
	}
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, &Error{Status: 1, Detail: err.Error()}
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, &Error{Status: 1, Detail: "bad port " + portText}
	}
	copts := C.ami_options_new()
	defer C.ami_options_free(copts)
	settings := cfg.options
	if cfg.logger != nil {
		// First, so that a log_level of WithOption wins.
		settings = append([][2]string{{"log_level", logLevelFor(cfg.logger)}}, settings...)
	} else {
		settings = append([][2]string{{"log_level", "off"}}, settings...)
	}
	// Events are taken from libami's queue in batches: one cgo call for
	// many events, rather than a callback into Go for each.
	for _, kv := range append(settings, [2]string{"event_queue", "1"}) {
		k, v := C.CString(kv[0]), C.CString(kv[1])
		status := C.ami_options_set(copts, k, v)
		C.free(unsafe.Pointer(k))
		C.free(unsafe.Pointer(v))
		if err := check(status); err != nil {
			return nil, err
		}
	}
	cl := &Client{c: C.ami_client_new(copts), events: make(chan *Message, cfg.buffer), quit: make(chan struct{})}
	if cl.c == nil {
		return nil, check(99)
	}
	if cfg.logger != nil {
		cl.id = uint64(C.ami_client_id(cl.c))
		loggers.Store(cl.id, cfg.logger)
		logHookup.Do(func() { C.ami_set_log_callback(C.ami_log_cb(C.ami_go_log), nil) })
	}
	go cl.pump()

	done := make(chan error, 1)
	go func() {
		cl.mu.RLock()
		defer cl.mu.RUnlock()
		if cl.c == nil {
			done <- ErrClosed
			return
		}
		h := C.CString(host)
		defer C.free(unsafe.Pointer(h))
		err := check(C.ami_client_connect(cl.c, h, C.uint16_t(port)))
		if err == nil && cfg.login {
			u, s := C.CString(cfg.user), C.CString(cfg.secret)
			err = check(C.ami_client_login(cl.c, u, s))
			C.free(unsafe.Pointer(u))
			C.free(unsafe.Pointer(s))
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			cl.Close()
			return nil, err
		}
		return cl, nil
	case <-ctx.Done():
		// The connect ends by its own deadline (connect_timeout_ms); the
		// client is freed then, off the caller's path.
		go func() {
			<-done
			cl.Close()
		}()
		return nil, ctx.Err()
	}
}

// Events delivers every event in arrival order; it is closed by Close.
func (cl *Client) Events() <-chan *Message {
	return cl.events
}

// Action sends action name with headers (name, value, name, value...) and
// waits for its response, or for ctx. A "Response: Error" is a Message,
// not an error.
func (cl *Client) Action(ctx context.Context, name string, headers ...string) (*Message, error) {
	if len(headers)%2 != 0 {
		return nil, &Error{Status: 1, Detail: "headers come in name, value pairs"}
	}
	hs := make([]Header, 0, len(headers)/2)
	for i := 0; i < len(headers); i += 2 {
		hs = append(hs, Header{headers[i], headers[i+1]})
	}
	return cl.Send(ctx, name, hs, "")
}

type result struct {
	msg *Message
	err error
}

// Send sends an action and waits for its response, or for ctx. A non-empty
// waitEvent makes it complete on that event carrying its ActionID
// (OriginateResponse after an async Originate).
func (cl *Client) Send(ctx context.Context, name string, headers []Header, waitEvent string) (*Message, error) {
	action, err := newAction(name, headers, waitEvent)
	if err != nil {
		return nil, err
	}
	defer C.ami_message_free(action)
	reply := make(chan result, 1)
	h := cgo.NewHandle(reply)
	slot := C.malloc(C.size_t(unsafe.Sizeof(C.uintptr_t(0))))
	*(*C.uintptr_t)(slot) = C.uintptr_t(h)
	cl.mu.RLock()
	if cl.c == nil {
		cl.mu.RUnlock()
		h.Delete()
		C.free(slot)
		return nil, &Error{Status: 9, Detail: "the client is closed"}
	}
	status := C.ami_client_send_async(cl.c, action, C.ami_response_cb(C.ami_go_response), slot)
	var sendErr error
	if status != 0 {
		sendErr = check(status)
	}
	cl.mu.RUnlock()
	if sendErr != nil {
		h.Delete()
		C.free(slot)
		return nil, sendErr
	}
	select {
	case r := <-reply:
		return r.msg, r.err
	case <-ctx.Done():
		return nil, ctx.Err() // the callback still runs once, and frees its slot
	}
}

func newAction(name string, headers []Header, waitEvent string) (*C.struct_ami_message, error) {
	n := C.CString(name)
	action := C.ami_message_new(n)
	C.free(unsafe.Pointer(n))
	if action == nil {
		return nil, check(1)
	}
	for _, h := range headers {
		k, v := C.CString(h.Name), C.CString(h.Value)
		status := C.ami_message_add(action, k, v)
		C.free(unsafe.Pointer(k))
		C.free(unsafe.Pointer(v))
		if err := check(status); err != nil {
			C.ami_message_free(action)
			return nil, err
		}
	}
	if waitEvent != "" {
		w := C.CString(waitEvent)
		status := C.ami_message_wait_event(action, w)
		C.free(unsafe.Pointer(w))
		if err := check(status); err != nil {
			C.ami_message_free(action)
			return nil, err
		}
	}
	return action, nil
}

// Banner is the server's "Asterisk Call Manager/X.Y.Z" line.
func (cl *Client) Banner() string {
	cl.mu.RLock()
	defer cl.mu.RUnlock()
	if cl.c == nil {
		return ""
	}
	return C.GoString(C.ami_client_banner(cl.c))
}

// DroppedEvents counts events dropped for a slow consumer by libami's queue.
func (cl *Client) DroppedEvents() uint64 {
	cl.mu.RLock()
	defer cl.mu.RUnlock()
	if cl.c == nil {
		return 0
	}
	return uint64(C.ami_client_dropped_events(cl.c))
}

// batchSize is how many queued events one cgo call takes at most.
const batchSize = 1024

// pump moves events from libami's queue to the Events channel, a batch per
// cgo call, until Close; then it closes the channel.
func (cl *Client) pump() {
	defer close(cl.events)
	var text *C.char
	var length, count C.size_t
	for {
		cl.mu.RLock()
		if cl.c == nil {
			cl.mu.RUnlock()
			return
		}
		// Waits at most 100 ms, so that Close never waits longer for it.
		status := C.ami_client_next_events(cl.c, batchSize, 100, &text, &length, &count)
		cl.mu.RUnlock()
		switch status {
		case 0:
		case 5: // none within the wait
			continue
		default:
			select {
			case <-cl.quit:
				return
			case <-time.After(10 * time.Millisecond): // closed underneath: Close is coming
				continue
			}
		}
		wire := C.GoStringN(text, C.int(length))
		C.ami_buffer_free(text, length)
		for len(wire) > 0 {
			var msg *Message
			msg, wire = nextWire(wire)
			if msg == nil {
				break
			}
			select {
			case cl.events <- msg:
			case <-cl.quit:
				return
			}
		}
	}
}

// Close closes the connection (no Logoff is sent), completes pending
// actions with ErrClosed and closes the Events channel. Idempotent.
func (cl *Client) Close() error {
	cl.once.Do(func() {
		cl.mu.Lock()
		c := cl.c
		cl.c = nil
		cl.mu.Unlock()
		if c != nil {
			C.ami_client_free(c) // every callback has run when this returns
		}
		if cl.id != 0 {
			loggers.Delete(cl.id)
		}
		close(cl.quit) // the pump closes Events as it ends
	})
	return nil
}

func handleOf(userdata unsafe.Pointer) cgo.Handle {
	return cgo.Handle(*(*C.uintptr_t)(userdata))
}

//export goResponse
func goResponse(status C.int, response *C.struct_ami_message, userdata unsafe.Pointer) {
	h := handleOf(userdata)
	reply := h.Value().(chan result)
	h.Delete()
	C.free(userdata)
	if status != 0 {
		reply <- result{err: &Error{Status: int(status), Detail: C.GoString(C.ami_last_error())}}
		return
	}
	reply <- result{msg: fromC(response)}
}
