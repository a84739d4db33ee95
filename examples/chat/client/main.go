// Command client is a terminal chat client for examples/chat, written with
// the Go client: it joins a room, prints messages as they arrive, and sends
// every line typed on stdin.
//
//	go run ./examples/chat                      # the server, in one terminal
//	go run ./examples/chat/client -name Alice   # in another
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/zocket-go/zocket/client"
	"github.com/zocket-go/zocket/examples/chat/chatroom"
)

func main() {
	url := flag.String("url", "ws://127.0.0.1:3000", "server URL")
	room := flag.String("room", "general", "room to join")
	name := flag.String("name", "anonymous", "your name")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *url, *room, *name, os.Stdin, os.Stdout); err != nil && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
}

// run chats until in ends or ctx is done.
func run(ctx context.Context, url, room, name string, in io.Reader, out io.Writer) error {
	c, err := client.Dial(ctx, url, client.Options{})
	if err != nil {
		return err
	}
	defer c.Close()
	h := c.Actor("chat", room)
	defer h.Release()

	printed := make(chan struct{}, 1)
	show := func(m chatroom.Message) {
		fmt.Fprintf(out, "%s: %s\n", m.From, m.Text)
		select {
		case printed <- struct{}{}:
		default:
		}
	}
	// History first (the state), then live messages (the events).
	if st, err := waitState(ctx, h); err == nil {
		for _, m := range st.Messages {
			show(m)
		}
	}
	off := client.OnEvent(h, chatroom.NewMessage, show)
	defer off()
	fmt.Fprintf(out, "* joined %s as %s\n", room, name)

	lines := make(chan string)
	go func() { // ends with in; owned by run through lines
		defer close(lines)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case line, ok := <-lines:
			if !ok {
				return nil
			}
			if strings.TrimSpace(line) == "" {
				continue
			}
			if _, err := client.Call(ctx, h, chatroom.SendMessage, chatroom.Message{From: name, Text: line}); err != nil {
				fmt.Fprintln(out, "error:", err)
			}
		}
	}
}

// waitState subscribes to the room's state until the snapshot arrives. The
// event listener that follows sends event:sub on the same socket, so the
// server has it before any message this client sends.
func waitState(ctx context.Context, h *client.Handle) (chatroom.State, error) {
	got := make(chan chatroom.State, 1)
	off := client.OnState(h, func(s chatroom.State) {
		select {
		case got <- s:
		default:
		}
	})
	defer off()
	select {
	case s := <-got:
		return s, nil
	case <-ctx.Done():
		return chatroom.State{}, ctx.Err()
	}
}
