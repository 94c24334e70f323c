// Events per second delivered on a Go channel, beside a plain Go loop
// (net.Conn + bufio, a map per message) on the same stream in the same run:
// go run ./bench PORT [EVENTS].
package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	ami "github.com/libami-rs/libami-rs/bindings/go"
)

// plainGo is the baseline: a socket read with bufio, each message parsed
// into a map, as a Go program without libami would.
func plainGo(port string, n int) float64 {
	conn, err := net.Dial("tcp", "127.0.0.1:"+port)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer conn.Close()
	r := bufio.NewReaderSize(conn, 256<<10)
	fmt.Fprint(conn, "Action: Login\r\nUsername: admin\r\nSecret: admin\r\nEvents: off\r\n\r\n")
	next := func() map[string]string {
		m := map[string]string{}
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			line = strings.TrimRight(line, "\r\n")
			if line == "" {
				if len(m) > 0 {
					return m
				}
				continue
			}
			name, value, _ := strings.Cut(line, ": ")
			if _, ok := m[name]; !ok {
				m[name] = value
			}
		}
	}
	r.ReadString('\n') // banner
	for next()["Message"] != "Authentication accepted" {
	}
	start := time.Now()
	fmt.Fprintf(conn, "Action: SimFlood\r\nCount: %d\r\nSize: 500\r\n\r\n", n)
	seen := 0
	for {
		m := next()
		if ev, ok := m["Event"]; ok {
			seen++
			if ev == "SimFloodComplete" {
				break
			}
		}
	}
	if seen != n+1 {
		fmt.Fprintf(os.Stderr, "plain go: %d of %d events\n", seen, n+1)
	}
	return float64(n) / time.Since(start).Seconds()
}

func main() {
	port := os.Args[1]
	n := 200000
	if len(os.Args) > 2 {
		n, _ = strconv.Atoi(os.Args[2])
	}
	base := plainGo(port, n)
	ctx := context.Background()
	c, err := ami.Dial(ctx, "127.0.0.1:"+port, ami.WithLogin("admin", "admin"), ami.WithOption("events", "off"), ami.WithOption("overflow", "block"),
		ami.WithEventBuffer(n+2)) // room for the whole flood: measure throughput, not loss
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer c.Close()
	start := time.Now()
	if _, err := c.Action(ctx, "SimFlood", "Count", strconv.Itoa(n), "Size", "500"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	seen := 0
	for ev := range c.Events() {
		seen++
		if ev.Get("Event") == "SimFloodComplete" {
			break
		}
	}
	elapsed := time.Since(start).Seconds()
	if seen != n+1 {
		fmt.Fprintf(os.Stderr, "go: lost events: %d of %d (dropped %d)\n", seen, n+1, c.DroppedEvents())
	}
	rate := float64(n) / elapsed
	fmt.Printf("  plain Go net.Conn + bufio  %12.0f events/s  (a map per message, the baseline)\n", base)
	fmt.Printf("  Go channel                 %12.0f events/s  (%.2f of plain Go)\n", rate, rate/base)
}
