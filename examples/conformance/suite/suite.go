// Package suite is the conformance suite of CONFORMANCE.md for the server
// side, over real WebSockets, against the fixture actors of package
// fixtures. Run it against any transport:
//
//	func TestConformance(t *testing.T) {
//		suite.Run(t, func(tb testing.TB) string { return startMyServer(tb) })
//	}
//
// startServer must serve fixtures.NewApp() and return its ws:// URL; it is
// called once per case, and the server must stop when tb ends. A few cases
// (23, 48, 51) drive the engine in-process with stub connections.
package suite

import "testing"

// Run runs every case as a subtest named after its CONFORMANCE.md number.
func Run(t *testing.T, startServer func(testing.TB) string) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, startServer) })
	}
}

var cases = []struct {
	name string
	run  func(*testing.T, func(testing.TB) string)
}{
	{"Case01_WelcomeFirstUniqueIDs", case01WelcomeFirstUniqueIDs},
	{"Case02_ClientIDStableAndVisible", case02ClientIDStableAndVisible},
	{"Case03_MalformedFramesIgnored", case03MalformedFramesIgnored},
	{"Case04_BinaryFrames", case04BinaryFrames},
	{"Case05_SuccessShape", case05SuccessShape},
	{"Case06_VoidVersusNull", case06VoidVersusNull},
	{"Case07_IDEchoedVerbatim", case07IDEchoedVerbatim},
	{"Case08_UnknownActor", case08UnknownActor},
	{"Case09_UnknownMethod", case09UnknownMethod},
	{"Case10_ValidationFailure", case10ValidationFailure},
	{"Case11_InputDefaults", case11InputDefaults},
	{"Case12_SchemaLessMethodIgnoresInput", case12SchemaLessMethodIgnoresInput},
	{"Case13_HandlerFailureIsAtomic", case13HandlerFailureIsAtomic},
	{"Case14_SharedStatePerInstance", case14SharedStatePerInstance},
	{"Case15_PerInstanceSerialization", case15PerInstanceSerialization},
	{"Case16_ReadLoopNotBlocked", case16ReadLoopNotBlocked},
	{"Case17_ContextReachesHandler", case17ContextReachesHandler},
	{"Case18_ChainAccumulates", case18ChainAccumulates},
	{"Case19_RejectionBlocksHandler", case19RejectionBlocksHandler},
	{"Case20_RejectionShortCircuits", case20RejectionShortCircuits},
	{"Case21_AsyncPlainShared", case21AsyncPlainShared},
	{"Case22_MiddlewareArguments", case22MiddlewareArguments},
	{"Case24_NoMiddlewareForHooksOrSubscriptions", case24NoMiddlewareForHooksOrSubscriptions},
	{"Case25_LookupThenValidationThenMiddleware", case25LookupThenValidationThenMiddleware},
	{"Case26_ContextMerging", case26ContextMerging},
	{"ConcurrentCallersKeepOrder", checkConcurrentCallersKeepOrder},
	{"Case23_TransportMetadata", case23TransportMetadata},
	{"Case27_BroadcastDeliveryAndShape", case27BroadcastDeliveryAndShape},
	{"Case28_UnsubscribeStopsDelivery", case28UnsubscribeStopsDelivery},
	{"Case29_PassiveListener", case29PassiveListener},
	{"Case30_ToTargeting", case30ToTargeting},
	{"Case31_ExceptTargeting", case31ExceptTargeting},
	{"Case32_NoTerminalNoEvent", case32NoTerminalNoEvent},
	{"Case33_InvalidOrUndeclaredEventsDropped", case33InvalidOrUndeclaredEventsDropped},
	{"Case34_PayloadIsSchemaOutput", case34PayloadIsSchemaOutput},
	{"Case35_TerminalSemantics", case35TerminalSemantics},
	{"Case36_EventsDiscardedOnFailure", case36EventsDiscardedOnFailure},
	{"Case37_SnapshotOnSubscribe", case37SnapshotOnSubscribe},
	{"Case38_ExactlyOnePatchPerMutatingCall", case38ExactlyOnePatchPerMutatingCall},
	{"Case39_AppendForm", case39AppendForm},
	{"Case40_PatchCorrectnessMatrix", case40PatchCorrectnessMatrix},
	{"Case41_PatchBeforeEventBeforeResult", case41PatchBeforeEventBeforeResult},
	{"Case42_ResubscribeAndUnsubscribe", case42ResubscribeAndUnsubscribe},
	{"Case43_KeyEscaping", case43KeyEscaping},
	{"Case44_OnConnectOnFirstStateSub", case44OnConnectOnFirstStateSub},
	{"Case45_OnConnectEventReachesNewSubscriber", case45OnConnectEventReachesNewSubscriber},
	{"Case46_OnConnectRunsBeforeFirstMethod", case46OnConnectRunsBeforeFirstMethod},
	{"Case47_OnConnectAtMostOnce", case47OnConnectAtMostOnce},
	{"Case48_UnknownActorSubscription", case48UnknownActorSubscription},
	{"Case48_NoInstanceCreated", case48NoInstanceCreated},
	{"Case49_OnDisconnectOnlyWhereInteracted", case49OnDisconnectOnlyWhereInteracted},
	{"Case50_OnDisconnectMutationsBroadcast", case50OnDisconnectMutationsBroadcast},
	{"Case51_HooksReceiveTransportMetadata", case51HooksReceiveTransportMetadata},
	{"Case52_ClientsContents", case52ClientsContents},
	{"Case53_ThrowingHookDoesNotWedge", case53ThrowingHookDoesNotWedge},
	{"Case54_OnActivateRunsOnceFirst", case54OnActivateRunsOnceFirst},
	{"Case55_InFlightCallSurvivesCallerClose", case55InFlightCallSurvivesCallerClose},
	{"BadInputKeepsConnectionAndActorWorking", checkBadInputKeepsConnectionAndActorWorking},
	{"OversizeFrameClosesWith1009", checkOversizeFrameClosesWith1009},
}
