// Connects, logs in, originates a call and prints events until interrupted.
//
//	go run ./example -addr 127.0.0.1:5038 -user admin -secret admin
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	ami "github.com/libami-rs/libami-rs/bindings/go"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5038", "AMI server host:port")
	user := flag.String("user", "admin", "AMI user")
	secret := flag.String("secret", "admin", "AMI secret")
	channel := flag.String("channel", "Local/200@default", "channel to originate")
	seconds := flag.Int("seconds", 0, "stop after this many seconds (0: at Ctrl-C)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *seconds > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(*seconds)*time.Second)
		defer cancel()
	}

	c, err := ami.Dial(ctx, *addr, ami.WithLogin(*user, *secret))
	if err != nil {
		fmt.Fprintln(os.Stderr, "dial:", err)
		os.Exit(1)
	}
	defer c.Close()
	fmt.Println("connected:", c.Banner())

	r, err := c.Send(ctx, "Originate", []ami.Header{
		{Name: "Channel", Value: *channel}, {Name: "Application", Value: "Wait"},
		{Name: "Data", Value: "1"}, {Name: "Async", Value: "true"},
	}, "OriginateResponse")
	if err != nil {
		fmt.Fprintln(os.Stderr, "originate:", err)
		os.Exit(1)
	}
	fmt.Printf("OriginateResponse: %s (%s)\n", r.Get("Response"), r.Get("Channel"))

	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				return
			}
			fmt.Printf("event: %-18s %s\n", ev.Get("Event"), ev.Get("Channel"))
		case <-ctx.Done():
			fmt.Println("stopping")
			return
		}
	}
}
