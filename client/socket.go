package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/coder/websocket"
)

// Socket is one WebSocket connection as the client uses it. The default
// (Options.Dial nil) is github.com/coder/websocket; tests and other
// transports plug in their own.
type Socket interface {
	// Read returns the next message. When the peer closes, the error
	// wraps a *CloseError carrying its reason; when a message exceeds the
	// read limit, it wraps ErrMessageTooBig.
	Read() ([]byte, error)
	// Write sends one text message.
	Write(ctx context.Context, frame []byte) error
	// Close closes the connection; a blocked Read returns.
	Close() error
}

// Dialer opens a Socket to url; it returns when the socket is open. When
// the server answers the handshake with an HTTP status, the error is a
// *HandshakeError.
type Dialer func(ctx context.Context, url string) (Socket, error)

// CloseError is how a socket ended: the close frame's code and reason.
type CloseError struct {
	Code   int
	Reason string
}

// Error describes the close.
func (e *CloseError) Error() string { return "websocket closed: " + e.Reason }

// CoderDialer dials with github.com/coder/websocket, sending header with
// the handshake and accepting messages up to readLimit bytes.
func CoderDialer(header http.Header, readLimit int64) Dialer {
	return func(ctx context.Context, url string) (Socket, error) {
		ws, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: header})
		if err != nil {
			if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
				return nil, &HandshakeError{StatusCode: resp.StatusCode, Err: err}
			}
			return nil, err
		}
		ws.SetReadLimit(readLimit)
		return &coderSocket{ws: ws}, nil
	}
}

type coderSocket struct{ ws *websocket.Conn }

func (s *coderSocket) Read() ([]byte, error) {
	_, data, err := s.ws.Read(context.Background())
	if err != nil {
		if errors.Is(err, websocket.ErrMessageTooBig) {
			return nil, fmt.Errorf("%w: %w", ErrMessageTooBig, err)
		}
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			return nil, &CloseError{Code: int(ce.Code), Reason: ce.Reason}
		}
		return nil, err
	}
	return data, nil
}

func (s *coderSocket) Write(ctx context.Context, frame []byte) error {
	return s.ws.Write(ctx, websocket.MessageText, frame)
}

func (s *coderSocket) Close() error {
	return s.ws.Close(websocket.StatusNormalClosure, "")
}
