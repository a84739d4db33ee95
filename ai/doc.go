// Package ai runs a language model inside a zocket actor: the
// conversation is the actor's state, a method streams the model's answer
// into it, and every subscriber (in every tab, over WebSocket) sees the
// tokens arrive.
//
// # Pieces
//
// A Provider streams one model turn as Events (text deltas, complete
// tool calls, usage, finish reason); ai/openai (chat completions, also for
// OpenAI-compatible local servers) and ai/anthropic (messages) wrap the
// official SDKs, and ai/replay replays scripted turns for tests and demos.
//
// An Agent turns a Provider into a streaming method of a conversation
// actor (Agent.Method): put a Conversation in the actor's state, give the
// Agent a function returning it, and register the method. A run appends
// the user's message and an assistant message whose text grows as deltas
// arrive (patches at most once per Agent.FlushEvery), sends the caller
// every step as a Chunk (rpc:stream chunks, shaped like the AI SDK's UI
// message stream), runs the tools the model calls, and returns the final
// assistant message and the usage.
//
// Tools are typed: Func wraps a Go function whose input struct is decoded
// from the model's JSON arguments (unknown members refused) and validated
// with `validate` tags; ActorTool calls an actor method (an actor-to-actor
// call). Arguments that do not decode or validate, a tool's error, an
// unknown tool and a tool's panic all become an error result that the
// model reads (and can act on); none ends the run.
//
// ChatHandler serves the AI SDK's useChat() over its default HTTP
// transport from the same method, so a React page works unchanged against
// a Go server, while WebSocket clients subscribed to the actor watch the
// same run.
//
// # Decisions
//
// The conversation belongs to the actor. useChat posts its whole message
// list; ChatHandler reads only the new user message from it. Message IDs
// are numbered per conversation ("m1", "m2", …). Each model turn is its own
// assistant message (with its tool calls), followed by one tool message
// per call, as the providers' APIs model it; the UI message stream still
// shows one assistant message (the AI SDK joins the steps).
//
// Failure keeps, it does not roll back: when the provider fails mid-stream
// or the run reaches Agent.Timeout, the method returns the error (the
// caller gets it; the UI stream ends with an error chunk) and the state
// keeps the partial assistant message with Status StatusFailed and the
// error's text, since subscribers have already seen it. The actor goes on
// serving, and the next run sends the partial text to the model as
// history (tool calls left without a result are left out).
//
// Stopping does not go through the conversation's mailbox: the run is
// the item the mailbox is executing, so a "stop" method of the same actor
// would only start after the run ended. Agent keeps a registry of running
// runs, keyed by App and conversation ID; Agent.Stop cancels one from any
// goroutine, and Agent.StopActor is a small actor whose stop method does
// it (register it next to the conversation actor and call
// stopActor/<conversation>.stop()). A stopped run is not an error: its
// message has StatusStopped, the result FinishStopped, the UI stream an
// "abort" chunk.
//
// The caller going away does not stop a run: over WebSocket the run's
// context is the App's; ChatHandler detaches it from the HTTP request.
// A run is bounded by Agent.Timeout (whole run, tools included) and
// Agent.MaxSteps (model turns).
//
// A second message sent while a run is in progress waits in the
// conversation's mailbox until the run ends. A run that never ended (the
// process stopped; a durable actor kept its state) leaves a message still
// streaming: the next run marks it failed with ErrInterrupted. A provider
// that panics fails the run like a provider error.
//
// # Streamed text
//
// JSON Patch has no string append: a flush that replaced a growing text
// would send the whole answer so far every time, so a subscriber would
// receive bytes growing with the square of the answer's length. Instead,
// while an assistant message streams its text grows as a list of pieces,
// Message.Pieces (JSON "pieces"): each flush appends one piece, the text
// that arrived since the previous flush, and its patch is a single add of
// that piece (path …/messages/N/pieces/K), whatever the length of the
// answer or of the conversation before it. When the message ends
// (done, failed or stopped), one patch sets its "text" to the whole text
// and removes "pieces", so a finished conversation has only texts:
//
//	{"id":"m2","role":"assistant","text":"","pieces":["Hel","lo wor"],"status":"streaming"}
//	{"id":"m2","role":"assistant","text":"Hello world","status":"done"}
//
// A client shows text followed by the pieces, joined (Message.FullText;
// in JavaScript m.text + (m.pieces ?? []).join("")), whatever the status.
package ai
