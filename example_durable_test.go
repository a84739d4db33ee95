package zocket_test

import (
	"context"
	"fmt"
	"time"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/storage/memstore"
)

type Reminders struct {
	Pending []string `json:"pending"`
	Done    []string `json:"done"`
}

type rc = zocket.Context[Reminders, zocket.NoData]

var fireReminder = zocket.MethodNoResult("fire", func(c *rc, text string) error {
	c.State.Done = append(c.State.Done, text)
	return nil
})

var remind = zocket.MethodNoResult("remind", func(c *rc, text string) error {
	c.State.Pending = append(c.State.Pending, text)
	fireReminder.At(c, time.Now().Add(time.Hour), text) // stored with the instance
	return nil
})

var listReminders = zocket.MethodNoInput("list", func(c *rc) (Reminders, error) { return *c.State, nil })

// A durable actor keeps its state and its alarms across restarts: here two
// Apps in turn use one Storage, as one process would before and after a
// restart. storage/diskstore keeps them on disk, storage/natsstore in
// NATS JetStream.
func ExampleWithStorage() {
	store := memstore.New()
	ctx := context.Background()
	newApp := func() *zocket.App {
		return zocket.NewApp(zocket.WithStorage(store)).Register("reminders",
			zocket.NewActor[Reminders]().Methods(remind, fireReminder, listReminders).
				IdleTimeout(5*time.Minute)) // passivated after 5 idle minutes
	}

	app := newApp()
	// The call returns once its change is durable (Gated, the default).
	if _, err := remind.Invoke(ctx, app, "reminders", "ada", "water the plants"); err != nil {
		fmt.Println(err)
	}
	_ = app.Close(ctx) // a crash would lose nothing either

	app = newApp()
	defer app.Close(ctx)
	r, _ := listReminders.Invoke(ctx, app, "reminders", "ada", zocket.None{})
	fmt.Println(r.Pending, r.Done)
	// Output: [water the plants] []
}
