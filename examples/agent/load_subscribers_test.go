package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The load benchmark runs its subscribers in a child process (this test
// binary again, running TestLoadSubscriberProcess), so that the server's
// CPU time is the benchmark process's own; the caller asking for the
// answer, which gets a chunk frame per delta, is there too. The child
// prints lines starting with loadLine: "ready" once every subscriber has
// its snapshot; it then asks for the answer when it reads a line on its
// standard input, and prints the result as JSON once the answer is
// complete and every subscriber saw its last delta.
const (
	loadLine    = "LOAD "
	envLoadURL  = "AGENT_LOAD_URL"  // the server's ws:// URL; set only in the child
	envLoadConv = "AGENT_LOAD_CONV" // the conversation's ID
	envLoadSubs = "AGENT_LOAD_SUBS" // the number of subscribers
	envLoadLast = "AGENT_LOAD_LAST" // the number of deltas of the answer
)

// loadResult is what the subscriber process reports.
type loadResult struct {
	// Frames and Bytes count the state:patch frames all subscribers
	// received during the answer.
	Frames, Bytes int64
	// LastSeen[i] is when the last subscriber saw delta i+1 (Unix
	// nanoseconds).
	LastSeen []int64
}

// TestLoadSubscriberProcess is the subscriber side of
// BenchmarkAgent_EndToEnd; it does nothing unless that benchmark started it.
func TestLoadSubscriberProcess(t *testing.T) {
	url := os.Getenv(envLoadURL)
	if url == "" {
		t.Skip("the subscriber process of BenchmarkAgent_EndToEnd")
	}
	subs, _ := strconv.Atoi(os.Getenv(envLoadSubs))
	last, _ := strconv.Atoi(os.Getenv(envLoadLast))
	conv := os.Getenv(envLoadConv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	conns := make([]*websocket.Conn, subs)
	for i := range conns {
		c, err := subscribe(ctx, url, conv)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		conns[i] = c
	}
	caller, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer caller.CloseNow()
	fmt.Println(loadLine + "ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		t.Fatal(err)
	}

	res := loadResult{LastSeen: make([]int64, last)}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			seen, frames, n, err := watch(ctx, c, last)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			res.Frames += frames
			res.Bytes += n
			for i, at := range seen {
				res.LastSeen[i] = max(res.LastSeen[i], at)
			}
		})
	}
	wg.Go(func() {
		if err := askAnswer(ctx, caller, conv); err != nil {
			t.Error(err)
		}
	})
	wg.Wait()
	out, _ := json.Marshal(res)
	fmt.Println(loadLine + string(out))
}

// subscribe dials url and subscribes to the conversation's state,
// returning once the snapshot arrived.
func subscribe(ctx context.Context, url, conv string) (*websocket.Conn, error) {
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	c.SetReadLimit(64 << 20)
	sub, _ := json.Marshal(map[string]string{"type": "state:sub", "actor": "agent", "actorId": conv})
	if err := c.Write(ctx, websocket.MessageText, sub); err != nil {
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			return nil, fmt.Errorf("snapshot: %w", err)
		}
		if bytes.Contains(data, []byte(`"state:snapshot"`)) {
			return c, nil
		}
	}
}

// askAnswer asks for the answer and reads until its result, skipping the chunks.
func askAnswer(ctx context.Context, c *websocket.Conn, conv string) error {
	rpc, _ := json.Marshal(map[string]any{"type": "rpc", "id": "load", "actor": "agent", "actorId": conv,
		"method": "send", "input": map[string]string{"text": "go"}})
	if err := c.Write(ctx, websocket.MessageText, rpc); err != nil {
		return fmt.Errorf("ask: %w", err)
	}
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			return fmt.Errorf("answer: %w", err)
		}
		if bytes.Contains(data[:min(len(data), 32)], []byte(`"rpc:result"`)) {
			return nil
		}
	}
}

// watch reads patches until the answer holds delta last, and returns when
// each delta was first seen, the patch frames and their bytes.
func watch(ctx context.Context, c *websocket.Conn, last int) (seen []int64, frames, n int64, err error) {
	seen = make([]int64, last)
	grown := 0
	for grown < last {
		_, data, err := c.Read(ctx)
		if err != nil {
			return nil, 0, 0, fmt.Errorf("read: %w", err)
		}
		at := time.Now().UnixNano()
		if !bytes.Contains(data[:min(len(data), 32)], []byte(`"state:patch"`)) {
			continue
		}
		frames++
		n += int64(len(data))
		i := bytes.LastIndexByte(data, '~')
		if i < 0 || i+tokenWidth > len(data) {
			continue
		}
		k, err := strconv.Atoi(string(data[i+1 : i+tokenWidth]))
		if err != nil {
			continue
		}
		for ; grown < k; grown++ {
			seen[grown] = at
		}
	}
	return seen, frames, n, nil
}
