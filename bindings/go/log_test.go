package ami

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is an io.Writer safe for the library's threads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

const logSecret = "Go-S3cr3t-Zq7x"

func loggedSession(t *testing.T, addr string, level slog.Level) string {
	t.Helper()
	var out lockedBuffer
	l := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: level}))
	c, err := Dial(context.Background(), addr, WithLogin("logger", logSecret), WithLogger(l))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Action(context.Background(), "Ping"); err != nil {
		t.Fatal(err)
	}
	c.Close()
	return out.String()
}

func TestWithLoggerTraceShowsTheWireMasked(t *testing.T) {
	addr := startSim(t, "--user", "logger:"+logSecret)
	text := loggedSession(t, addr, LevelTrace)
	for _, want := range []string{"-> Action: Login", "Secret: ********", "<- Response: Success", "Ping: Pong", "state LoggedIn", "level=DEBUG-4", "ami_client="} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in the log:\n%s", want, text)
		}
	}
	if strings.Contains(text, logSecret) {
		t.Fatalf("the secret is in the log:\n%s", text)
	}
}

func TestWithLoggerLevelsFilterAndNeverShowTheSecret(t *testing.T) {
	addr := startSim(t, "--user", "logger:"+logSecret)
	for _, level := range []slog.Level{slog.LevelError, slog.LevelWarn, slog.LevelInfo, slog.LevelDebug, LevelTrace} {
		text := loggedSession(t, addr, level)
		if strings.Contains(text, logSecret) {
			t.Fatalf("level %v: the secret is in the log:\n%s", level, text)
		}
		if wire := strings.Contains(text, "-> "); wire != (level == LevelTrace) {
			t.Errorf("level %v: wire records %v:\n%s", level, wire, text)
		}
		if info := strings.Contains(text, "state LoggedIn"); info != (level <= slog.LevelInfo) {
			t.Errorf("level %v: state records %v:\n%s", level, info, text)
		}
	}
}
