// Package conformance is the conformance suite of a zocket server
// (docs/conformance.md): it checks, frame by frame, that a server speaks
// the zocket wire protocol as the TypeScript server does, against the
// fixture actors of package fixtures. A transport passes it by serving
// fixtures.NewApp():
//
//	func TestConformance(t *testing.T) {
//		conformance.Run(t, conformance.Target{Start: startMyServer})
//	}
//
// # Framing
//
// By default the suite connects with WebSockets to the ws:// URL Start
// returns. A transport with another framing (server-sent events and POST,
// length-prefixed TCP, an in-memory pipe) sets Target.Dial, a
// client.Dialer as the Go client uses: Start then returns any address
// that Dial understands. The suite expects of a framing only that each
// frame carries one JSON message, as text, in both directions, in order,
// and that closing the client's end tells the server the client left.
//
// Two checks belong to WebSocket framing and run only with the default
// dialer, skipped otherwise: binary frames are read as text, as the
// TypeScript server does, and a frame over the server's size limit closes
// the connection with code 1009.
//
// A few checks (transport metadata, no instance created) drive the engine
// in-process with stub connections, whatever the target.
package conformance

import (
	"context"
	"testing"

	"github.com/zocket-go/zocket/client"
	"github.com/zocket-go/zocket/internal/testsupport/wstest"
)

// Target is the server under test and how to reach it.
type Target struct {
	// Start serves a fresh fixtures.NewApp() until tb ends and returns its
	// address: a ws:// URL for the default dialer, anything Dial
	// understands otherwise. It is called once per check.
	Start func(tb testing.TB) string
	// Dial opens one client connection to an address Start returned. Nil
	// dials WebSockets.
	Dial client.Dialer
}

// Run runs every check against target, each as a subtest named after the
// behaviour it checks.
func Run(t *testing.T, target Target) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, target) })
	}
}

// server is a fixture server started for one check.
type server struct {
	t      *testing.T
	target Target
	addr   string
}

// start starts a fixture server for t.
func (tg Target) start(t *testing.T) server {
	t.Helper()
	return server{t: t, target: tg, addr: tg.Start(t)}
}

// connect opens a connection and returns it before the welcome frame.
func (s server) connect() *wstest.Client {
	s.t.Helper()
	if s.target.Dial == nil {
		return wstest.Dial(s.t, s.addr)
	}
	ctx, cancel := context.WithTimeout(s.t.Context(), wstest.Patience)
	defer cancel()
	sock, err := s.target.Dial(ctx, s.addr)
	if err != nil {
		s.t.Fatalf("dial %s: %v", s.addr, err)
	}
	return wstest.NewClient(s.t, sock)
}

// dial opens a connection and reads its welcome frame.
func (s server) dial() *wstest.Client {
	s.t.Helper()
	c := s.connect()
	c.ReadWelcome()
	return c
}

// onlyWebSocket skips a check of WebSocket framing when the target has a
// framing of its own.
func (tg Target) onlyWebSocket(t *testing.T) {
	t.Helper()
	if tg.Dial != nil {
		t.Skip("checks WebSocket framing: runs only with the default dialer (Target.Dial is nil)")
	}
}

var cases = []struct {
	name string
	run  func(*testing.T, Target)
}{
	{"WelcomeFirstUniqueIDs", checkWelcomeFirstUniqueIDs},
	{"ClientIDStableAndVisible", checkClientIDStableAndVisible},
	{"MalformedFramesIgnored", checkMalformedFramesIgnored},
	{"BinaryFrames", checkBinaryFrames},
	{"SuccessShape", checkSuccessShape},
	{"VoidVersusNull", checkVoidVersusNull},
	{"IDEchoedVerbatim", checkIDEchoedVerbatim},
	{"UnknownActor", checkUnknownActor},
	{"UnknownMethod", checkUnknownMethod},
	{"ValidationFailure", checkValidationFailure},
	{"InputDefaults", checkInputDefaults},
	{"SchemaLessMethodIgnoresInput", checkSchemaLessMethodIgnoresInput},
	{"HandlerFailureIsAtomic", checkHandlerFailureIsAtomic},
	{"SharedStatePerInstance", checkSharedStatePerInstance},
	{"PerInstanceSerialization", checkPerInstanceSerialization},
	{"ReadLoopNotBlocked", checkReadLoopNotBlocked},
	{"ContextReachesHandler", checkContextReachesHandler},
	{"ChainAccumulates", checkChainAccumulates},
	{"RejectionBlocksHandler", checkRejectionBlocksHandler},
	{"RejectionShortCircuits", checkRejectionShortCircuits},
	{"AsyncPlainShared", checkAsyncPlainShared},
	{"MiddlewareArguments", checkMiddlewareArguments},
	{"NoMiddlewareForHooksOrSubscriptions", checkNoMiddlewareForHooksOrSubscriptions},
	{"LookupThenValidationThenMiddleware", checkLookupThenValidationThenMiddleware},
	{"ContextMerging", checkContextMerging},
	{"ConcurrentCallersKeepOrder", checkConcurrentCallersKeepOrder},
	{"TransportMetadata", checkTransportMetadata},
	{"BroadcastDeliveryAndShape", checkBroadcastDeliveryAndShape},
	{"UnsubscribeStopsDelivery", checkUnsubscribeStopsDelivery},
	{"PassiveListener", checkPassiveListener},
	{"ToTargeting", checkToTargeting},
	{"ExceptTargeting", checkExceptTargeting},
	{"NoTerminalNoEvent", checkNoTerminalNoEvent},
	{"InvalidOrUndeclaredEventsDropped", checkInvalidOrUndeclaredEventsDropped},
	{"PayloadIsSchemaOutput", checkPayloadIsSchemaOutput},
	{"TerminalSemantics", checkTerminalSemantics},
	{"EventsDiscardedOnFailure", checkEventsDiscardedOnFailure},
	{"SnapshotOnSubscribe", checkSnapshotOnSubscribe},
	{"ExactlyOnePatchPerMutatingCall", checkExactlyOnePatchPerMutatingCall},
	{"AppendForm", checkAppendForm},
	{"PatchCorrectnessMatrix", checkPatchCorrectnessMatrix},
	{"PatchBeforeEventBeforeResult", checkPatchBeforeEventBeforeResult},
	{"ResubscribeAndUnsubscribe", checkResubscribeAndUnsubscribe},
	{"KeyEscaping", checkKeyEscaping},
	{"OnConnectOnFirstStateSub", checkOnConnectOnFirstStateSub},
	{"OnConnectEventReachesNewSubscriber", checkOnConnectEventReachesNewSubscriber},
	{"OnConnectRunsBeforeFirstMethod", checkOnConnectRunsBeforeFirstMethod},
	{"OnConnectAtMostOnce", checkOnConnectAtMostOnce},
	{"UnknownActorSubscription", checkUnknownActorSubscription},
	{"NoInstanceCreated", checkNoInstanceCreated},
	{"OnDisconnectOnlyWhereInteracted", checkOnDisconnectOnlyWhereInteracted},
	{"OnDisconnectMutationsBroadcast", checkOnDisconnectMutationsBroadcast},
	{"HooksReceiveTransportMetadata", checkHooksReceiveTransportMetadata},
	{"ClientsContents", checkClientsContents},
	{"ThrowingHookDoesNotWedge", checkThrowingHookDoesNotWedge},
	{"OnActivateRunsOnceFirst", checkOnActivateRunsOnceFirst},
	{"InFlightCallSurvivesCallerClose", checkInFlightCallSurvivesCallerClose},
	{"BadInputKeepsConnectionAndActorWorking", checkBadInputKeepsConnectionAndActorWorking},
	{"OversizeFrameClosesWith1009", checkOversizeFrameClosesWith1009},
}
