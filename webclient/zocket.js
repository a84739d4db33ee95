// zocket.js: a dependency-free browser client for zocket servers, shaped
// like @zocket/client:
//
//   import { createClient } from "/zocket/zocket.js";
//   const client = createClient({ url: "ws://127.0.0.1:3000" });
//   const room = client.chat("general");
//   room.on("newMessage", (m) => console.log(m));
//   room.state.subscribe((s) => render(s));
//   await room.sendMessage({ from: "Ann", text: "hi" });
//
// A method call's optional second argument { onChunk } receives the
// partial results ("rpc:stream" messages) a streaming method sends before
// its result.
//
// Resume: a Go server sends state with a "version" and an "epoch". A
// handle that has a versioned state re-subscribes naming it (after a
// reconnect, or when its state listeners come back), and the server sends
// only the patches it missed, a snapshot when it cannot, or nothing when
// the handle is current. A versioned patch that does not follow the state
// (missed versions, another epoch) is never applied: the handle asks the
// same way, once until a snapshot or the next patch arrives or the
// connection is re-established; an older one is a duplicate, ignored.
// Events missed while disconnected are not replayed. A TypeScript server
// sends no versions: nothing changes.

const RESERVED_CLIENT = new Set(["connection", "clientId", "$close", "$ready", "$status", "on", "then"]);
let rpcCounter = 0; // shared by every client of the page, as in @zocket/client

/** PatchError is thrown by applyPatch for an operation that cannot apply. */
export class PatchError extends Error {
  constructor(op, why) {
    super(`patch cannot be applied: ${op.op} ${op.path}: ${why}`);
    this.name = "PatchError";
  }
}

/**
 * splitPointer splits a JSON Pointer into its unescaped segments ("~1" is
 * "/", then "~0" is "~"); "" and "/" both mean the root.
 */
export function splitPointer(path) {
  if (path === "" || path === "/") return [];
  const body = path.startsWith("/") ? path.slice(1) : path;
  return body.split("/").map((s) => (s.includes("~") ? s.replaceAll("~1", "/").replaceAll("~0", "~") : s));
}

/**
 * applyPatch returns doc with the operations of one state:patch message
 * applied (RFC 6902 add, replace, remove; array add inserts, "-" appends;
 * add or replace without a value removes an object member and sets an array
 * element to null; move, copy and test are ignored). doc is never changed:
 * if any operation fails, applyPatch throws a PatchError.
 */
export function applyPatch(doc, ops) {
  let out = structuredClone(doc);
  for (const op of ops) {
    if (op.op === "add" || op.op === "replace" || op.op === "remove") out = applyOp(out, op);
  }
  return out;
}

function applyOp(doc, op) {
  const segs = splitPointer(op.path);
  const hasValue = "value" in op;
  if (segs.length === 0) return op.op === "remove" || !hasValue ? null : op.value;
  let node = doc;
  for (const key of segs.slice(0, -1)) node = child(node, key, op);
  const key = segs[segs.length - 1];
  if (Array.isArray(node)) {
    const i = arrayIndex(node, key, op.op === "add", op);
    const value = hasValue ? op.value : null;
    if (op.op === "add") node.splice(i, 0, value);
    else if (op.op === "replace") node[i] = value;
    else node.splice(i, 1);
  } else if (isObject(node)) {
    const exists = Object.hasOwn(node, key);
    if (op.op === "remove" || !hasValue) {
      if (!exists && op.op === "remove") throw new PatchError(op, `no member "${key}"`);
      delete node[key];
    } else if (op.op === "replace" && !exists) {
      throw new PatchError(op, `no member "${key}"`);
    } else {
      Object.defineProperty(node, key, { value: op.value, writable: true, enumerable: true, configurable: true });
    }
  } else {
    throw new PatchError(op, `"${key}" is not inside an object or array`);
  }
  return doc;
}

function child(node, key, op) {
  if (Array.isArray(node)) return node[arrayIndex(node, key, false, op)];
  if (isObject(node)) {
    if (!Object.hasOwn(node, key)) throw new PatchError(op, `no member "${key}"`);
    return node[key];
  }
  throw new PatchError(op, `"${key}" is not inside an object or array`);
}

// arrayIndex parses a canonical decimal index; "-" (and the length, for
// add) is the end.
function arrayIndex(arr, seg, add, op) {
  if (seg === "-" && add) return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(seg)) throw new PatchError(op, `bad array index "${seg}"`);
  const i = Number(seg);
  if (i > arr.length || (i === arr.length && !add)) {
    throw new PatchError(op, `index ${i} out of range (length ${arr.length})`);
  }
  return i;
}

// versionOf returns the { version, epoch } a state message carries, or
// null: "version" counts only as a non-negative integer, "epoch" is "" when
// absent or not a string.
function versionOf(msg) {
  if (!Number.isSafeInteger(msg.version) || msg.version < 0) return null;
  return { version: msg.version, epoch: typeof msg.epoch === "string" ? msg.epoch : "" };
}

function isObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

// notify calls every listener with the arguments; one that throws does not
// stop the others.
function notify(listeners, ...args) {
  for (const fn of [...listeners]) {
    try {
      fn(...args);
    } catch (err) {
      console.error("zocket: listener failed", err);
    }
  }
}

// Actor is what every handle of one (actor, id) pair shares: listeners,
// state, and whether the server should send events and state.
class Actor {
  constructor(client, name, id) {
    this.client = client;
    this.name = name;
    this.id = id;
    this.refs = 0;
    this.teardown = null;
    this.events = new Map(); // event name -> Set of listeners
    this.eventCount = 0;
    this.stateListeners = new Set();
    this.state = undefined;
    this.hasState = false;
    this.version = undefined; // of the state, when the server sent one
    this.epoch = "";
    this.resuming = false; // a state:sub for a gap is unanswered: send no other
  }

  get wantsEvents() {
    return this.eventCount > 0;
  }

  get wantsState() {
    return this.stateListeners.size > 0;
  }

  send(type) {
    this.client.sendIfOpen({ type, actor: this.name, actorId: this.id });
  }

  on(event, fn) {
    let set = this.events.get(event);
    if (!set) this.events.set(event, (set = new Set()));
    const entry = (payload) => fn(payload); // the same fn may be added twice
    set.add(entry);
    if (++this.eventCount === 1) this.send("event:sub");
    return () => {
      if (!set.delete(entry)) return; // removed already, or torn down
      if (--this.eventCount === 0) this.send("event:unsub");
    };
  }

  subscribe(fn) {
    const entry = (s) => fn(s);
    this.stateListeners.add(entry);
    if (this.stateListeners.size === 1) this.sendStateSub();
    if (this.hasState) notify([entry], this.state);
    return () => {
      if (!this.stateListeners.delete(entry)) return;
      if (this.stateListeners.size === 0) this.send("state:unsub");
    };
  }

  // sendStateSub sends state:sub, naming the version and epoch of the
  // state it has (resume); version 0 and no epoch when it has none, which
  // asks a Go server for versioned frames and gets a snapshot.
  sendStateSub() {
    const known = this.version !== undefined;
    const msg = { type: "state:sub", actor: this.name, actorId: this.id,
      version: known ? this.version : 0, epoch: known ? this.epoch : "" };
    this.client.sendIfOpen(msg);
  }

  resubscribe() {
    this.resuming = false; // a new connection: a gap may ask again
    if (this.wantsEvents) this.send("event:sub");
    if (this.wantsState) this.sendStateSub();
  }

  receive(msg) {
    switch (msg.type) {
      case "event":
        notify(this.events.get(msg.event) ?? [], msg.payload);
        break;
      case "state:snapshot":
        this.resuming = false;
        this.setState(msg.state, versionOf(msg));
        break;
      case "state:patch":
        this.patch(msg);
        break;
    }
  }

  patch(msg) {
    if (!this.hasState || !Array.isArray(msg.patches)) return;
    const at = versionOf(msg);
    if (at && (this.version === undefined || at.epoch !== this.epoch || at.version > this.version + 1)) {
      if (this.wantsState && !this.resuming) {
        this.resuming = true;
        this.sendStateSub();
      }
      return; // a gap, or another epoch: never applied
    }
    if (at && at.version <= this.version) return; // a duplicate
    let state;
    try {
      state = applyPatch(this.state, msg.patches);
    } catch (err) {
      // Keep the last good state, which no longer follows the history,
      // and ask for a fresh snapshot.
      console.warn("zocket:", err.message);
      this.version = undefined;
      if (this.wantsState) this.sendStateSub();
      return;
    }
    if (at) this.resuming = false;
    this.setState(state, at);
  }

  // setState publishes state, at its place in the instance's history
  // ({ version, epoch }, or null when the message had no version).
  setState(state, at) {
    this.state = state;
    this.hasState = true;
    this.version = at ? at.version : undefined;
    this.epoch = at ? at.epoch : "";
    notify(this.stateListeners, state);
  }

  acquire() {
    this.refs++;
    clearTimeout(this.teardown);
    this.teardown = null;
    return this.handle();
  }

  release() {
    this.refs = Math.max(0, this.refs - 1);
    if (this.refs > 0 || this.teardown) return;
    // Deferred by one turn: a handle acquired again before then is reused
    // without unsubscribing and subscribing again.
    this.teardown = setTimeout(() => this.destroy(), 0);
  }

  destroy() {
    clearTimeout(this.teardown);
    this.teardown = null;
    if (this.wantsEvents) this.send("event:unsub");
    if (this.wantsState) this.send("state:unsub");
    for (const set of this.events.values()) set.clear();
    this.events.clear();
    this.eventCount = 0;
    this.stateListeners.clear();
    this.state = undefined;
    this.hasState = false;
    this.version = undefined;
    this.resuming = false;
    this.client.actors.delete(this.client.key(this.name, this.id));
  }

  // handle returns one acquisition: a Proxy whose unknown properties are
  // the actor's methods.
  handle() {
    let disposed = false;
    const dispose = () => {
      if (disposed) return;
      disposed = true;
      this.release();
    };
    const base = {
      on: (event, fn) => this.on(event, fn),
      state: { subscribe: (fn) => this.subscribe(fn), getSnapshot: () => this.state },
      meta: { name: this.name, id: this.id, dispose },
      $actorName: this.name,
      $actorId: this.id,
      $dispose: dispose,
    };
    return new Proxy(base, {
      get: (target, prop) => {
        if (typeof prop === "symbol" || prop === "then") return undefined;
        if (Object.hasOwn(target, prop)) return target[prop];
        return (...args) => this.client.call(this.name, this.id, prop, args);
      },
    });
  }
}

class Client {
  constructor(options) {
    if (!options || !options.url) throw new Error("zocket: createClient needs a url");
    this.url = options.url;
    this.rpcTimeout = options.rpcTimeout ?? 10000;
    this.connectTimeout = options.connectTimeout ?? 10000;
    this.reconnect = options.reconnect ?? true;
    this.reconnectDelayMs = options.reconnectDelayMs;
    this.status = "connecting";
    this.clientId = null;
    this.statusListeners = new Set();
    this.actors = new Map(); // key -> Actor, in creation order
    this.pending = new Map(); // rpc id -> { method, resolve, reject, timer, onChunk }
    this.openWaiters = new Set();
    this.ws = null;
    this.closed = false;
    this.attempt = 0;
    this.reconnectTimer = null;
    this.readySettled = false;
    this.ready = new Promise((resolve, reject) => {
      this.settleReady = (err) => {
        if (this.readySettled) return;
        this.readySettled = true;
        clearTimeout(this.connectTimer);
        err ? reject(err) : resolve();
      };
    });
    this.ready.catch(() => {}); // a page that never awaits ready is not an unhandled rejection
    if (this.connectTimeout > 0) {
      this.connectTimer = setTimeout(
        () => this.settleReady(new Error(`WebSocket did not connect within ${this.connectTimeout}ms`)),
        this.connectTimeout,
      );
    }
    this.open();
  }

  key(name, id) {
    return JSON.stringify([name, id]);
  }

  actor(name, id) {
    const k = this.key(name, id);
    let a = this.actors.get(k);
    if (!a) this.actors.set(k, (a = new Actor(this, name, id)));
    return a.acquire();
  }

  setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    notify(this.statusListeners, status);
  }

  onStatus(fn) {
    const entry = (s) => fn(s);
    this.statusListeners.add(entry);
    return () => this.statusListeners.delete(entry);
  }

  isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  sendIfOpen(msg) {
    if (this.isOpen()) this.ws.send(JSON.stringify(msg));
  }

  open() {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => this.opened(ws);
    ws.onmessage = (ev) => this.message(ev.data);
    ws.onclose = (ev) => this.dropped(ws, ev.reason);
  }

  opened(ws) {
    if (ws !== this.ws) return;
    this.attempt = 0;
    this.setStatus("connected");
    this.settleWaiters(null);
    this.settleReady(null);
    for (const a of this.actors.values()) a.resubscribe();
  }

  dropped(ws, reason) {
    if (ws !== this.ws) return;
    const wasOpen = this.status === "connected";
    this.ws = null;
    this.clientId = null;
    this.rejectPending(reason || "WebSocket closed");
    if (this.closed) return;
    if (!this.reconnect) {
      this.setStatus("disconnected");
      const err = new Error("WebSocket is not connected");
      this.settleWaiters(err);
      this.settleReady(err);
      return;
    }
    if (wasOpen) this.setStatus("reconnecting");
    if (this.reconnectTimer) return;
    this.attempt++;
    const delay = this.reconnectDelayMs ?? Math.min(250 * 2 ** (this.attempt - 1), 2000) + Math.floor(Math.random() * 100);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.closed) this.open();
    }, delay);
  }

  message(data) {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    if (msg === null || typeof msg !== "object" || typeof msg.type !== "string") return;
    switch (msg.type) {
      case "welcome":
        this.clientId = msg.clientId ?? null;
        return;
      case "rpc:result": {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        clearTimeout(p.timer);
        if (typeof msg.error === "string") p.reject(new Error(msg.error || "Unknown error"));
        else p.resolve(msg.result);
        return;
      }
      case "rpc:stream": {
        const p = this.pending.get(msg.id);
        if (p && p.onChunk) notify([p.onChunk], msg.chunk);
        return;
      }
      case "event":
      case "state:snapshot":
      case "state:patch":
        this.actors.get(this.key(msg.actor, msg.actorId))?.receive(msg);
    }
  }

  rejectPending(message) {
    const calls = [...this.pending.values()];
    this.pending.clear();
    for (const p of calls) {
      clearTimeout(p.timer);
      p.reject(new Error(message));
    }
  }

  settleWaiters(err) {
    const waiters = [...this.openWaiters];
    this.openWaiters.clear();
    for (const w of waiters) w(err);
  }

  // waitOpen resolves when a socket opens, within timeout ms (0: forever).
  waitOpen(timeout) {
    return new Promise((resolve, reject) => {
      let timer;
      const waiter = (err) => {
        clearTimeout(timer);
        err ? reject(err) : resolve();
      };
      this.openWaiters.add(waiter);
      if (timeout > 0) {
        timer = setTimeout(() => {
          this.openWaiters.delete(waiter);
          reject(new Error(`WebSocket was not ready within ${timeout}ms`));
        }, timeout);
      }
    });
  }

  // call sends an rpc and settles with its result. args is [input] or
  // [input, { onChunk }]; no argument at all sends no input.
  async call(actor, actorId, method, args) {
    const id = `rpc_${++rpcCounter}_${Date.now().toString(36)}`;
    const msg = { type: "rpc", id, actor, actorId, method };
    if (args.length > 0) msg.input = args[0];
    const onChunk = args[1]?.onChunk;
    const timeout = this.rpcTimeout;
    const start = Date.now();
    if (this.closed) throw new Error("WebSocket client is closed");
    if (!this.isOpen()) {
      if (this.status === "disconnected") throw new Error("WebSocket is not connected");
      await this.waitOpen(timeout);
    }
    if (!this.isOpen()) throw new Error("WebSocket is not connected");
    const remaining = timeout - (Date.now() - start);
    const timedOut = () => new Error(`RPC "${method}" timed out after ${timeout}ms`);
    if (timeout > 0 && remaining <= 0) throw timedOut();
    return new Promise((resolve, reject) => {
      const p = { resolve, reject, onChunk, timer: null };
      if (timeout > 0) {
        p.timer = setTimeout(() => {
          this.pending.delete(id);
          reject(timedOut());
        }, remaining);
      }
      this.pending.set(id, p);
      try {
        this.ws.send(JSON.stringify(msg));
      } catch {
        clearTimeout(p.timer);
        this.pending.delete(id);
        reject(new Error(`RPC "${method}" could not be sent`));
      }
    });
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    for (const a of [...this.actors.values()]) a.destroy();
    this.rejectPending("WebSocket client closed");
    const ws = this.ws;
    this.ws = null;
    this.setStatus("disconnected");
    this.settleWaiters(new Error("WebSocket client closed"));
    this.settleReady(new Error("WebSocket client closed before becoming ready"));
    ws?.close();
  }
}

/**
 * createClient connects to a zocket server. Options: url (required),
 * rpcTimeout (ms, default 10000, 0: none), connectTimeout (ms, default
 * 10000), reconnect (default true), reconnectDelayMs (fixed delay instead
 * of backoff). client.<actor>(id) returns a handle.
 */
export function createClient(options) {
  const c = new Client(options);
  const connection = {
    get ready() {
      return c.ready;
    },
    get status() {
      return c.status;
    },
    subscribe: (fn) => c.onStatus(fn),
    close: () => c.close(),
  };
  const fixed = {
    connection,
    $close: () => c.close(),
    on: (event, fn) => (event === "status" ? c.onStatus(fn) : () => {}),
  };
  return new Proxy(fixed, {
    get(target, prop) {
      if (typeof prop === "symbol" || prop === "then") return undefined;
      if (prop === "clientId") return c.clientId;
      if (prop === "$ready") return c.ready;
      if (prop === "$status") return c.status;
      if (RESERVED_CLIENT.has(prop)) return target[prop];
      return (id) => c.actor(prop, id);
    },
  });
}
