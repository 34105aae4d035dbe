#!/usr/bin/env python3
"""Answers vLLM's runtime LoRA API with replies recorded from a real vLLM 0.32 server
(the JSON files beside this script), for mwad's serving tests.

replay.py PORT_FILE LOG_FILE REPLY [REPLY ...]   (--hang: never answer a POST;
--port=N: listen on N, as a restarted server would)
Each POST /v1/load_lora_adapter gets the next reply (the last one repeats) and its
body is appended to LOG_FILE as a JSON line; GET /v1/models lists what was loaded (and
is logged too).
The port it listens on (127.0.0.1, chosen by the system) is written to PORT_FILE.
"""
import json, os, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

here = os.path.dirname(os.path.abspath(__file__))
port_file, log_file, *names = sys.argv[1:]
hang = "--hang" in names
port = next((int(n.split("=")[1]) for n in names if n.startswith("--port=")), 0)
replies = [json.load(open(os.path.join(here, f"{n}.json"))) for n in names if not n.startswith("--")]
loaded = {}

class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        with open(log_file, "a") as log:
            log.write(json.dumps({"path": self.path, "method": "GET"}) + "\n")
        data = [{"id": name, "object": "model", "root": root, "parent": "base"} for name, root in loaded.items()]
        self.send(200, "application/json", json.dumps({"object": "list", "data": data}))

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(log_file, "a") as log:
            log.write(json.dumps({"path": self.path, "method": "POST", "body": json.loads(body or b"{}"),
                                  "authorization": self.headers.get("Authorization")}) + "\n")
        if hang:
            time.sleep(3600)
        reply = replies.pop(0) if len(replies) > 1 else replies[0]
        if reply["status"] == 200:
            request = json.loads(body)
            loaded[request["lora_name"]] = request["lora_path"]
        self.send(reply["status"], reply["content_type"], reply["body"])

    def send(self, status, content_type, text):
        data = text.encode()
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
