// Sends one user message to a useChat endpoint the way useChat() does
// (the AI SDK's DefaultChatTransport) and assembles the answer with the
// SDK's own reader (readUIMessageStream). Prints the last message, or
// {"error": …} if the transport or the stream failed.
//
//   node check.mjs <api url> <chat id> <text>
import { DefaultChatTransport, readUIMessageStream } from "ai";

const [api, chatId, text] = process.argv.slice(2);
try {
  const transport = new DefaultChatTransport({ api });
  const stream = await transport.sendMessages({
    chatId,
    trigger: "submit-message",
    messageId: undefined,
    messages: [{ id: "u1", role: "user", parts: [{ type: "text", text }] }],
    abortSignal: undefined,
  });
  let last;
  let streamError;
  for await (const message of readUIMessageStream({ stream, onError: (e) => { streamError = e; } })) {
    last = message;
  }
  console.log(JSON.stringify(streamError ? { error: String(streamError.message ?? streamError), message: last } : last));
} catch (e) {
  console.log(JSON.stringify({ error: String(e.message ?? e) }));
}
