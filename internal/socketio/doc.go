// Package socketio is the Socket.IO server the OpenHands web UI talks to: Socket.IO protocol v5 over
// Engine.IO protocol v4, websocket transport only, default namespace only, JSON only.
//
// We wrote it instead of using a third-party Go implementation because the one we measured reached
// only 0.8x the throughput of node's socket.io and, after a burst of abrupt disconnects, left about
// one connect in a thousand hanging. The clients we serve (socket.io-client 4 with
// transports: ["websocket"]) need a small subset of the protocols, and a small server is one we can
// make fast and keep correct:
//
//   - one websocket per client, one Socket per websocket, namespace "/" only (CONNECT to any other
//     namespace is refused with CONNECT_ERROR "Invalid namespace");
//   - HTTP long-polling is refused with engine.io's own 400 answer, so clients must be configured with
//     transports: ["websocket"];
//   - binary packets (BINARY_EVENT, BINARY_ACK, binary frames) are not supported: the connection is
//     logged and closed;
//   - the server acknowledges client events (ACK with an empty array) but does not ask clients for
//     acknowledgements.
//
// Outgoing packets are encoded once into websocket frames (Frame): a broadcast to a room of a
// thousand sockets appends the same Frame to a thousand queues. Each socket has one writer
// goroutine that drains its queue in batches with a single writev, without holding locks, and
// disconnects the client when its queue grows beyond Options.MaxQueuedBytes; the application's
// replay brings a reconnecting client up to date. Each socket's reader runs in the HTTP handler's
// goroutine and calls the application's handlers there, in the order the client sent its packets.
package socketio
