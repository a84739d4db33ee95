//go:build unix

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/client"
	"github.com/zocket-go/zocket/examples/chat/chatroom"
	"github.com/zocket-go/zocket/internal/testsupport/poll"
	"github.com/zocket-go/zocket/internal/testsupport/wstest"
)

// chatServerEnv makes the test binary run the chat server's main with its
// command line arguments instead of the tests: the crash tests start the
// real program as a child process, to kill it.
const chatServerEnv = "ZOCKET_CHAT_TEST_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(chatServerEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// chatProcess is the chat server running in a child process.
type chatProcess struct {
	cmd  *exec.Cmd
	log  *childLog
	done chan struct{} // closed when the process has exited; then err is set
	err  error
}

// childLog is a child's stderr: kept for failure messages, and scanned for
// the "chat listening" line that gives the server's URL.
type childLog struct {
	mu   sync.Mutex
	b    strings.Builder
	url  chan string // receives the URL once
	sent bool
}

var listening = regexp.MustCompile(`msg="chat listening" url=(\S+)\n`)

func (l *childLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Write(p)
	if m := listening.FindStringSubmatch(l.b.String()); m != nil && !l.sent {
		l.sent = true
		l.url <- m[1]
	}
	return len(p), nil
}

func (l *childLog) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// startChat starts the chat server with args (and -addr 127.0.0.1:0) in a
// child process, which is killed when the test ends.
func startChat(t *testing.T, args ...string) *chatProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), chatServerEnv+"=1")
	p := &chatProcess{cmd: cmd, log: &childLog{url: make(chan string, 1)}, done: make(chan struct{})}
	cmd.Stderr = p.log
	require.NoError(t, cmd.Start())
	go func() { // ends when the process exits
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(p.kill)
	return p
}

// url waits until the server listens and returns its ws:// URL.
func (p *chatProcess) url(t *testing.T) string {
	t.Helper()
	select {
	case u := <-p.log.url:
		return u
	case <-p.done:
		t.Fatalf("chat server exited (%v) before listening:\n%s", p.err, p.log)
	case <-time.After(poll.Deadline):
		t.Fatalf("chat server does not listen:\n%s", p.log)
	}
	return ""
}

// kill kills the process with SIGKILL, as a crash would, and waits for it
// to be gone.
func (p *chatProcess) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// exited waits for the process to exit by itself and returns its exit
// code.
func (p *chatProcess) exited(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(poll.Deadline):
		t.Fatalf("chat server still runs:\n%s", p.log)
	}
	return 0
}

// loadResult is what a client saw of a load cut short by a crash.
type loadResult struct {
	acked []string // the texts of the messages whose call got a result
	seen  []string // the texts of the newMessage events, in order
}

// loadUntilKilled sends messages m0…m199 to room "general" from 8
// goroutines over one connection, and kills the server once 50 calls got
// their result, while the others are in flight or still to send.
func loadUntilKilled(t *testing.T, p *chatProcess) loadResult {
	t.Helper()
	const senders, perSender, killAfter = 8, 25, 50
	ctx := t.Context()
	c, err := client.Dial(ctx, p.url(t), client.Options{NoReconnect: true})
	require.NoError(t, err)
	defer c.Close()
	room := c.Actor("chat", "general")
	defer room.Release()

	var mu sync.Mutex
	var res loadResult
	off := client.OnEvent(room, chatroom.NewMessage, func(m chatroom.Message) {
		mu.Lock()
		res.seen = append(res.seen, m.Text)
		mu.Unlock()
	})
	defer off()
	enough := make(chan struct{})
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := range perSender {
				text := fmt.Sprintf("m%d", s*perSender+i)
				if _, err := client.Call(ctx, room, chatroom.SendMessage, chatroom.Message{From: fmt.Sprintf("s%d", s), Text: text}); err != nil {
					return // the server is gone
				}
				mu.Lock()
				res.acked = append(res.acked, text)
				if len(res.acked) == killAfter {
					close(enough)
				}
				mu.Unlock()
			}
		})
	}
	select {
	case <-enough:
	case <-time.After(poll.Deadline):
		t.Fatalf("fewer than %d results:\n%s", killAfter, p.log)
	}
	p.kill()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	return res
}

// roomState returns the state of room "general" of the server at url.
func roomState(t *testing.T, url string) chatroom.State {
	t.Helper()
	b, err := json.Marshal(wstest.DialWelcome(t, url).Snapshot("chat", "general"))
	require.NoError(t, err)
	var st chatroom.State
	require.NoError(t, json.Unmarshal(b, &st))
	return st
}

// requireWhole checks that the room holds each message at most once, each
// one as it was sent (sender s<k> sent m<25k>…m<25k+24>), and returns
// their texts in order.
func requireWhole(t *testing.T, st chatroom.State) []string {
	t.Helper()
	texts := make([]string, 0, len(st.Messages))
	for _, m := range st.Messages {
		var n int
		_, err := fmt.Sscanf(m.Text, "m%d", &n)
		require.NoError(t, err, "message %+v", m)
		require.Equal(t, fmt.Sprintf("s%d", n/25), m.From, "message %+v", m)
		require.NotContains(t, texts, m.Text, "a message appears twice")
		texts = append(texts, m.Text)
	}
	return texts
}

// isPrefix reports whether a is a prefix of b.
func isPrefix(a, b []string) bool { return len(a) <= len(b) && slices.Equal(a, b[:len(a)]) }

func TestCrash_AMessageWhoseCallGotAResultSurvivesSIGKILL(t *testing.T) {
	dir := t.TempDir()
	got := loadUntilKilled(t, startChat(t, "-data", dir))

	url := startChat(t, "-data", dir).url(t)
	kept := requireWhole(t, roomState(t, url))
	t.Logf("%d results, %d events seen, %d messages kept", len(got.acked), len(got.seen), len(kept))
	for _, text := range got.acked {
		assert.Contains(t, kept, text, "the call of %s got its result: its message is durable", text)
	}
	assert.True(t, isPrefix(got.seen, kept),
		"subscribers saw only durable messages, in the order kept: saw %v, kept %v", got.seen, kept)

	c, err := client.Dial(t.Context(), url, client.Options{})
	require.NoError(t, err)
	defer c.Close()
	_, err = client.Call(t.Context(), c.Actor("chat", "general"), chatroom.SendMessage, chatroom.Message{From: "s0", Text: "m0-again"})
	require.NoError(t, err, "the restarted room takes new messages after the kept ones")
	assert.Len(t, roomState(t, url).Messages, len(kept)+1)
}

// With -relaxed a crash may lose messages whose calls got a result (those
// of the last write-behind delay, a matter of timing this test does not
// measure), but what is kept is still a consistent room: whole messages,
// once each, in the order subscribers saw them.
func TestCrash_RelaxedKeepsAConsistentRoomThroughSIGKILL(t *testing.T) {
	dir := t.TempDir()
	got := loadUntilKilled(t, startChat(t, "-data", dir, "-relaxed"))

	kept := requireWhole(t, roomState(t, startChat(t, "-data", dir, "-relaxed").url(t)))
	t.Logf("%d results, %d events seen, %d messages kept", len(got.acked), len(got.seen), len(kept))
	assert.True(t, isPrefix(kept, got.seen) || isPrefix(got.seen, kept),
		"one history: kept %v, seen %v", kept, got.seen)
}

func TestDataDir_ASecondServerOnTheSameDirectoryExitsWithAnError(t *testing.T) {
	dir := t.TempDir()
	first := startChat(t, "-data", dir)
	first.url(t)

	second := startChat(t, "-data", dir)
	assert.Equal(t, 1, second.exited(t))
	assert.Contains(t, second.log.String(), "chat: another chat server is using the data directory "+dir)
}

func TestDataDir_AGracefulStopWritesEvenARelaxedRoom(t *testing.T) {
	dir := t.TempDir()
	p := startChat(t, "-data", dir, "-relaxed")
	c, err := client.Dial(t.Context(), p.url(t), client.Options{})
	require.NoError(t, err)
	_, err = client.Call(context.Background(), c.Actor("chat", "general"), chatroom.SendMessage, chatroom.Message{From: "Ann", Text: "hi"})
	require.NoError(t, err)
	c.Close()
	require.NoError(t, p.cmd.Process.Signal(os.Interrupt))
	assert.Equal(t, 0, p.exited(t), "log:\n%s", p.log)

	assert.Equal(t, []chatroom.Message{{From: "Ann", Text: "hi"}}, roomState(t, startChat(t, "-data", dir).url(t)).Messages)
}
