// The reference: node's socket.io 4 doing the same join + fan-out as gohands, minus persistence.
// Usage: NODE_PATH=test/node/node_modules node bench/socketio/reference.js [port]   (0 picks one)
const { Server } = require("socket.io");
const http = require("http").createServer();
const io = new Server(http, { transports: ["websocket"], cors: { origin: "*" } });
io.on("connection", (socket) => {
  const room = socket.handshake.query.conversation_id;
  socket.join(room);
  socket.on("oh_user_action", (payload) => io.to(room).emit("oh_event", payload));
});
http.listen(Number(process.argv[2] || 0), "127.0.0.1", () =>
  console.log(JSON.stringify({ pid: process.pid, port: http.address().port })));
process.on("SIGTERM", () => io.close(() => process.exit(0)));
