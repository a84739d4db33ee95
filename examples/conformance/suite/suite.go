// Package suite is the conformance suite (docs/conformance.md) for the server
// side, over real WebSockets, against the fixture actors of package
// fixtures. Run it against any transport:
//
//	func TestConformance(t *testing.T) {
//		suite.Run(t, func(tb testing.TB) string { return startMyServer(tb) })
//	}
//
// startServer must serve fixtures.NewApp() and return its ws:// URL; it is
// called once per check, and the server must stop when tb ends. A few checks
// (transport metadata, no instance created) drive the engine in-process
// with stub connections.
package suite

import "testing"

// Run runs every check as a subtest named after the behaviour it checks.
func Run(t *testing.T, startServer func(testing.TB) string) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, startServer) })
	}
}

var cases = []struct {
	name string
	run  func(*testing.T, func(testing.TB) string)
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
