package wsepoll

import "github.com/zocket-go/zocket"

// ConnOf returns the server side of s's open connection with the client
// id, nil when there is none: the transport contract checks the outbound
// queue through it.
func ConnOf(s *Server, clientID string) zocket.Connection {
	for _, c := range s.all() {
		if c.id == clientID {
			return c
		}
	}
	return nil
}
