package ai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/zocket-go/zocket"
)

// DefaultMaxChatBody bounds a chat request's body when
// ChatOptions.MaxBody is 0. useChat posts the whole conversation every
// time, though ChatHandler reads only the last message: for long
// conversations, send only that one with the transport's
// prepareSendMessagesRequest ({ body: { id, messages: messages.slice(-1) } }).
const DefaultMaxChatBody = 4 << 20

// ChatOptions configure ChatHandler.
type ChatOptions struct {
	// MaxBody bounds the request body in bytes; 0 means
	// DefaultMaxChatBody.
	MaxBody int64
	// Identify authenticates the request: the run is called as the
	// returned identity (middleware and guards see it). An error answers
	// 401 with its text. Nil: anonymous.
	Identify func(r *http.Request) (zocket.Identity, error)
}

// chatRequest is the body the AI SDK's default chat transport posts.
type chatRequest struct {
	ID       string        `json:"id"`
	Messages []chatMessage `json:"messages"`
	Trigger  string        `json:"trigger"`
}

type chatMessage struct {
	Role  string `json:"role"`
	Parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"parts"`
}

// ChatHandler serves the AI SDK's useChat() over its default HTTP
// transport (DefaultChatTransport) from a conversation actor: a POST
// with the transport's body ({id, messages, trigger, …}) runs method m
// on instance (actor, id) and streams the run's chunks back as the UI
// message stream (server-sent events, header
// x-vercel-ai-ui-message-stream: v1, ending with data: [DONE]).
//
// The conversation lives in the actor, not in the client: of the posted
// messages only the last one is read, the user's new message (its text
// parts, joined); trigger "regenerate-message" regenerates the last
// answer. Other pages and WebSocket clients subscribed to the instance
// watch the same run. A malformed request is answered 400 with the
// reason, as is input the method refuses; other errors, before or during
// the run, arrive as an error chunk. The client going away (useChat's
// stop(), a closed tab) does not stop the run: call Agent.Stop for that.
// A GET (the transport's resume request) is answered 204: there is no
// stream to resume; the actor's state has the whole conversation.
//
// The conversation ID comes from the client: authenticate with
// ChatOptions.Identify and check that the identity may use the
// conversation in the method's middleware or guard (MethodDef.Guard).
func ChatHandler[S, C any](app *zocket.App, actor string, m *zocket.MethodDef[S, C, Prompt, Result], opts ChatOptions) http.Handler {
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxChatBody
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			w.WriteHeader(http.StatusNoContent)
			return
		case http.MethodPost:
		default:
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		ctx := context.WithoutCancel(r.Context()) // the run outlives the request
		if opts.Identify != nil {
			id, err := opts.Identify(r)
			if err != nil {
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
			ctx = zocket.WithIdentity(ctx, id)
		}
		id, prompt, err := parseChat(http.MaxBytesReader(w, r.Body, opts.MaxBody))
		if err != nil {
			status := http.StatusBadRequest
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				status = http.StatusRequestEntityTooLarge
			}
			http.Error(w, err.Error(), status)
			return
		}
		q := &chunkQueue{wake: make(chan struct{}, 1)}
		done := make(chan error, 1)
		go func() { // ends with the run, which Agent.Timeout bounds
			_, err := m.Invoke(zocket.WithChunks(ctx, q.push), app, actor, id, prompt)
			done <- err
		}()
		streamChunks(w, r, q, done)
	})
}

// parseChat validates a chat request body.
func parseChat(body io.Reader) (string, Prompt, error) {
	var req chatRequest
	if err := json.NewDecoder(body).Decode(&req); err != nil {
		return "", Prompt{}, fmt.Errorf("invalid chat request: %w", err)
	}
	switch {
	case strings.TrimSpace(req.ID) == "":
		return "", Prompt{}, errors.New("invalid chat request: id is required")
	case len(req.ID) > 256:
		return "", Prompt{}, errors.New("invalid chat request: id is longer than 256 bytes")
	}
	switch req.Trigger {
	case "regenerate-message":
		return req.ID, Prompt{Regenerate: true}, nil
	case "", "submit-message":
	default:
		return "", Prompt{}, fmt.Errorf("invalid chat request: unsupported trigger %q", req.Trigger)
	}
	if len(req.Messages) == 0 {
		return "", Prompt{}, errors.New("invalid chat request: messages is empty")
	}
	last := req.Messages[len(req.Messages)-1]
	var text strings.Builder
	for _, p := range last.Parts {
		if p.Type == "text" {
			text.WriteString(p.Text)
		}
	}
	if last.Role != string(RoleUser) || strings.TrimSpace(text.String()) == "" {
		return "", Prompt{}, errors.New("invalid chat request: the last message must be a user message with text")
	}
	return req.ID, Prompt{Text: text.String()}, nil
}

// streamChunks writes the run's chunks as server-sent events until the run
// ends or the client goes away. The response starts with the first chunk,
// so that input the method refuses can still be answered 400.
func streamChunks(w http.ResponseWriter, r *http.Request, q *chunkQueue, done <-chan error) {
	defer q.close()
	rc := http.NewResponseController(w)
	started, sawError := false, false
	start := func() {
		if !started {
			started = true
			h := w.Header()
			h.Set("Content-Type", "text/event-stream")
			h.Set("Cache-Control", "no-cache")
			h.Set("X-Vercel-AI-UI-Message-Stream", "v1")
			h.Set("X-Accel-Buffering", "no")
			w.WriteHeader(http.StatusOK)
		}
	}
	write := func() bool {
		chunks := q.take()
		if len(chunks) == 0 {
			return true
		}
		start()
		for _, c := range chunks {
			sawError = sawError || bytes.HasPrefix(c, []byte(`{"type":"error"`))
			if _, err := fmt.Fprintf(w, "data: %s\n\n", c); err != nil {
				return false
			}
		}
		return rc.Flush() == nil
	}
	for {
		select {
		case <-q.wake:
			if !write() {
				return
			}
		case err := <-done:
			if !write() {
				return
			}
			if err != nil && !started && errors.Is(err, zocket.ErrValidation) {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			start()
			if err != nil && !sawError {
				b, _ := json.Marshal(Chunk{Type: ChunkError, ErrorText: err.Error()})
				fmt.Fprintf(w, "data: %s\n\n", b)
			}
			fmt.Fprint(w, "data: [DONE]\n\n")
			_ = rc.Flush()
			return
		case <-r.Context().Done():
			return
		}
	}
}

// chunkQueue carries chunks from the run (the actor's goroutine, which
// must never wait for a slow client) to the HTTP handler.
type chunkQueue struct {
	mu     sync.Mutex
	chunks []json.RawMessage
	closed bool
	wake   chan struct{}
}

func (q *chunkQueue) push(c json.RawMessage) {
	q.mu.Lock()
	if !q.closed {
		q.chunks = append(q.chunks, c)
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *chunkQueue) take() []json.RawMessage {
	q.mu.Lock()
	defer q.mu.Unlock()
	c := q.chunks
	q.chunks = nil
	return c
}

// close drops later chunks: the client is gone.
func (q *chunkQueue) close() {
	q.mu.Lock()
	q.closed, q.chunks = true, nil
	q.mu.Unlock()
}
