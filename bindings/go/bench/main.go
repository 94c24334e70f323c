// Events per second delivered on a Go channel: go run ./bench PORT [EVENTS].
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	ami "github.com/libami-rs/libami-rs/bindings/go"
)

func main() {
	port := os.Args[1]
	n := 200000
	if len(os.Args) > 2 {
		n, _ = strconv.Atoi(os.Args[2])
	}
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
	fmt.Printf("  Go channel                 %12.0f events/s\n", float64(n)/elapsed)
}
