package zockettest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/client"
	"github.com/zocket-go/zocket/zockettest"
)

// A raw connection named like the documentation's "c1" keeps its
// subscriptions when a client Dial connected closes: dialed ids do not
// clash with such names.
func TestServer_DialedClientIDsDoNotClashWithRawConnectionNames(t *testing.T) {
	left := make(chan string, 2)
	srv := zockettest.NewServer(visitsApp(left), zockettest.Options{})
	conn := srv.Connect(t, "c1", zocket.Identity{UserID: "ann"})
	conn.Next() // welcome
	conn.Write(`{"type":"event:sub","actor":"visits","actorId":"v"}`)

	c := srv.Client(t, client.Options{})
	_, err := client.Call(t.Context(), c.Actor("visits", "v"), visit, zocket.None{})
	require.NoError(t, err)
	id := c.ClientID() // welcome came before the call's result
	assert.NotEqual(t, "c1", id)
	assert.Equal(t, "visited", conn.Next()["event"])
	c.Close()
	select {
	case gone := <-left:
		assert.Equal(t, id, gone)
	case <-time.After(10 * time.Second):
		t.Fatal("the closed client's disconnect hook never ran")
	}

	conn.Call("visits", "v", "visit", nil)
	assert.Equal(t, "visited", conn.Next()["event"], "the raw connection is still subscribed")
}
