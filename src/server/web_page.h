// The chat page served at `/`: plain HTML and JavaScript, no build step. It streams replies from
// /v1/chat/completions (SSE over fetch), keeps the conversation, and its Stop button aborts the
// request (the server then cancels the generation). An API key, when the server wants one, is
// typed into the page and kept in the browser's localStorage.
#pragma once

namespace kestrel::server {

inline constexpr const char* kChatPage = R"KESTREL_HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kestrel chat</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 48rem; margin: 0 auto; padding: 1rem; }
  #log { border: 1px solid #ccc; border-radius: 6px; padding: .5rem; min-height: 20rem;
         max-height: 70vh; overflow-y: auto; }
  .msg { white-space: pre-wrap; margin: .4rem 0; padding: .4rem .6rem; border-radius: 6px; }
  .user { background: #e8f0fe; }
  .assistant { background: #f3f3f3; }
  .error { background: #fde8e8; }
  form { display: flex; gap: .5rem; margin-top: .5rem; }
  #input { flex: 1; padding: .5rem; }
  #status { color: #666; font-size: .85rem; min-height: 1.2em; }
</style>
</head>
<body>
<h1>Kestrel chat</h1>
<div><label>API key <input id="key" type="password" autocomplete="off"></label></div>
<div id="log"></div>
<div id="status"></div>
<form id="form">
  <input id="input" autocomplete="off" placeholder="Message">
  <button id="send" type="submit">Send</button>
  <button id="stop" type="button" disabled>Stop</button>
</form>
<script>
"use strict";
const log = document.getElementById("log");
const input = document.getElementById("input");
const sendBtn = document.getElementById("send");
const stopBtn = document.getElementById("stop");
const status = document.getElementById("status");
const keyBox = document.getElementById("key");
keyBox.value = localStorage.getItem("kestrel_key") || "";
keyBox.addEventListener("change", () => localStorage.setItem("kestrel_key", keyBox.value));
const messages = [];
let controller = null;

function add(role, text) {
  const div = document.createElement("div");
  div.className = "msg " + role;
  div.textContent = text;
  log.appendChild(div);
  log.scrollTop = log.scrollHeight;
  return div;
}

function busy(on) {
  sendBtn.disabled = on;
  stopBtn.disabled = !on;
}

async function send(text) {
  messages.push({role: "user", content: text});
  add("user", text);
  const out = add("assistant", "");
  out.id = "reply-" + messages.length;
  controller = new AbortController();
  busy(true);
  status.textContent = "generating";
  let reply = "";
  try {
    const headers = {"Content-Type": "application/json"};
    if (keyBox.value) headers["Authorization"] = "Bearer " + keyBox.value;
    const res = await fetch("/v1/chat/completions", {
      method: "POST", headers, signal: controller.signal,
      body: JSON.stringify({model: "kestrel", messages, stream: true, max_tokens: 512}),
    });
    if (!res.ok) {
      const err = await res.json().catch(() => ({}));
      throw new Error((err.error && err.error.message) || ("HTTP " + res.status));
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    for (;;) {
      const {done, value} = await reader.read();
      if (done) break;
      buf += decoder.decode(value, {stream: true});
      let cut;
      while ((cut = buf.indexOf("\n\n")) >= 0) {
        const event = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        if (!event.startsWith("data: ")) continue;
        const data = event.slice(6);
        if (data === "[DONE]") continue;
        const j = JSON.parse(data);
        if (j.error) throw new Error(j.error.message);
        const c = j.choices && j.choices[0];
        if (c && c.delta && c.delta.content) {
          reply += c.delta.content;
          out.textContent = reply;
          log.scrollTop = log.scrollHeight;
        }
      }
    }
    status.textContent = "done";
  } catch (e) {
    if (e.name === "AbortError") {
      status.textContent = "stopped";
    } else {
      add("error", String(e.message || e));
      status.textContent = "error";
    }
  } finally {
    messages.push({role: "assistant", content: reply});
    controller = null;
    busy(false);
  }
}

document.getElementById("form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = input.value.trim();
  if (!text || controller) return;
  input.value = "";
  send(text);
});
stopBtn.addEventListener("click", () => { if (controller) controller.abort(); });
</script>
</body>
</html>
)KESTREL_HTML";

}  // namespace kestrel::server
