package wsepoll

// table holds a Server's connections by slot: constant-time add and
// remove, a slot number that fits an epoll event's data, and iteration
// without a map's overhead per connection. The Server's mu guards it.
type table struct {
	slots []*conn
	free  []int32
	n     int
}

func (t *table) add(c *conn) {
	if k := len(t.free); k > 0 {
		c.slot = t.free[k-1]
		t.free = t.free[:k-1]
		t.slots[c.slot] = c
	} else {
		c.slot = int32(len(t.slots))
		t.slots = append(t.slots, c)
	}
	t.n++
}

func (t *table) remove(c *conn) {
	if t.get(c.slot) == c {
		t.slots[c.slot] = nil
		t.free = append(t.free, c.slot)
		t.n--
	}
}

func (t *table) get(slot int32) *conn {
	if slot < 0 || int(slot) >= len(t.slots) {
		return nil
	}
	return t.slots[slot]
}

// each calls f for every connection.
func (t *table) each(f func(*conn)) {
	for _, c := range t.slots {
		if c != nil {
			f(c)
		}
	}
}
