package wscore

import (
	"strconv"
	"sync/atomic"
	"time"
)

// ClientIDs generates client ids of the form go_<n>_<base36 ms>: unique
// within the generator, free of '.', '*', '>' and spaces so that they can
// also be NATS subject tokens. The zero value is ready to use.
type ClientIDs struct{ n atomic.Uint64 }

// Next returns a new id.
func (g *ClientIDs) Next() string {
	b := make([]byte, 0, 24)
	b = append(b, "go_"...)
	b = strconv.AppendUint(b, g.n.Add(1), 10)
	b = append(b, '_')
	b = strconv.AppendInt(b, time.Now().UnixMilli(), 36)
	return string(b)
}
