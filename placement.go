package zocket

import (
	"context"
	"errors"
	"fmt"
)

// ErrElsewhere is the Kind of the error an App returns for an instance its
// Placement says another process hosts: the App does not activate it.
var ErrElsewhere = errors.New("zocket: actor hosted elsewhere")

// Placement reports whether this App hosts instance (actor, id) now. A
// transport that runs one App per process over a shared actor space (the
// partitioned runtime of transport/natscluster) sets it, so that an App
// activates only the instances it owns: calls between actors and alarms
// never wake an instance that another process hosts.
type Placement func(actor, id string) bool

// SetPlacement makes the App activate only the instances p reports as
// local; nil (the default) hosts every instance. Live instances are not
// affected: the caller passivates those it gives up (Destroy). Alarms of
// instances that are not local are left to their host, and ReloadAlarms
// picks up the stored alarms of instances that become local.
func (a *App) SetPlacement(p Placement) {
	if p == nil {
		a.placement.Store(nil)
		return
	}
	a.placement.Store(&p)
}

// local reports whether the App may activate k.
func (a *App) local(k key) bool {
	p := a.placement.Load()
	return p == nil || (*p)(k.actor, k.id)
}

// elsewhere is the error of a call to an instance that is not local.
func elsewhere(k key) error {
	return &CallError{Message: fmt.Sprintf("Actor %s/%s is hosted elsewhere", k.actor, k.id), Kind: ErrElsewhere}
}

// ReloadAlarms reads the stored alarms again and schedules those of local
// instances that are not live (a live instance's clock entries are its
// own). A transport calls it when instances become local, such as a
// runtime that took over a partition. Without a Storage it does nothing.
func (a *App) ReloadAlarms(ctx context.Context) error {
	if a.storage == nil {
		return nil
	}
	list, err := a.storage.Alarms(ctx)
	if err != nil {
		return fmt.Errorf("zocket: reload alarms: %w", err)
	}
	a.alarms.adopt(list, func(k key) bool { return a.lookup(k) == nil && a.local(k) })
	return nil
}
