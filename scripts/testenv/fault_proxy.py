#!/usr/bin/env python3
"""Fault-injecting HTTP proxy in front of moto (Python stdlib only).

    fault_proxy.py --listen 127.0.0.1:45501 --upstream http://127.0.0.1:45500

Every request that is not under /__proxy__/ is forwarded to the upstream (method, path, query,
headers and body), and the upstream's response is streamed back, unless a rule injects a fault.

Classification of each request
  service  from the SigV4 credential scope (Authorization: ... Credential=AKID/DATE/REGION/SERVICE/
           aws4_request, or X-Amz-Credential in a presigned query); "moto-api" for /moto-api/...;
           "" when unsigned.
  action   query protocol (EC2, RDS, IAM, STS, ELB, ...): Action= from the form body or query string;
           JSON protocol: the part of X-Amz-Target after the dot;
           REST-JSON (EKS): a synthetic name from method + path, e.g. POST /clusters -> CreateCluster,
           GET /clusters/{n} -> DescribeCluster, DELETE /clusters/{n} -> DeleteCluster,
           POST /clusters/{n}/node-groups -> CreateNodegroup, GET .../node-groups/{g} ->
           DescribeNodegroup (also ListClusters, ListNodegroups, DeleteNodegroup, Update*, *Addon,
           *FargateProfile, *AccessEntry, TagResource, ...); anything else "METHOD /path".
  account  the x-moto-account-id header (moto's per-account isolation), else 123456789012.
  region   from the credential scope.

Control API (JSON), on the same port
  GET    /__proxy__/health              {"ok": true}
  POST   /__proxy__/rules               add a rule (body: one rule object or a list); -> {"ids": [...]}
  GET    /__proxy__/rules               the rules, each with its "id" and "fired" count
  DELETE /__proxy__/rules               clear rules, rewrite counters and stats
  DELETE /__proxy__/rules?account=A     the same, but only what belongs to account A (parallel tests)
  DELETE /__proxy__/rules/<id>          remove one rule
  GET    /__proxy__/stats[?account=A]   {"total": N, "counts": {"ec2": {"RunInstances": 2}, ...},
                                         "calls": [{"service", "action", "status", "account",
                                                    "region", "method", "path", "fault"}, ...]}
                                        ("status" is null for reset/timeout; calls in arrival order,
                                         the last 20000 kept)
  DELETE /__proxy__/stats[?account=A]   clear the stats only

A rule
  {"service": "ec2",            optional, matches the service
   "action": "RunInstances",    optional, matches the action (synthetic names for EKS, see above)
   "account": "123456789012",   optional, matches the account
   "region": "eu-west-1",       optional
   "resource": "/clusters/x",   optional, substring of the resource key (see rewrite)
   "fault": "throttle" | "error" | "reset" | "timeout" | "latency" | "rewrite",
   "status": 500 | 503 | 400,   for "error" (default 500); 400 (and 403) with a "code" gives a
                                client refusal in the service's shape, e.g. EC2
                                NatGatewayLimitExceeded or AddressLimitExceeded (a used-up quota)
   "code", "message":           optional overrides of the error code/message for throttle/error
   "ms": 1500,                  for "latency" (delay, then forward) and "timeout" (hold the
                                connection that long, then close it without a response; default 10000)
   "forward": false,            for throttle/error/reset/timeout: forward to moto first (the request
                                takes effect) and then inject the fault instead of the real response
   "probability": 1.0,          chance that a matching request fires the rule
   "seed": 7,                   optional seed for that chance (deterministic sequences)
   "count": 3,                  optional maximum number of times the rule fires
   "from": "ACTIVE", "to": "CREATING", "polls": 3}   for "rewrite"
   "seconds": 4.5               for "rewrite", instead of "polls": hold the state for that long
                                after the first matching response per resource (time-based, as
                                AWS does; used by the provisioning benchmark)

Faults, in the real per-service error shapes
  throttle  EC2: HTTP 503 <Response><Errors><Error><Code>RequestLimitExceeded</Code>...
            other query services (RDS, IAM, STS, ELB, ...): HTTP 400 <ErrorResponse><Error>
              <Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>...
            REST-JSON (EKS): HTTP 429 {"message":"Rate exceeded"}, x-amzn-ErrorType: ThrottlingException
            JSON protocol (X-Amz-Target): HTTP 400 {"__type":"ThrottlingException",...}
  error     the same shapes with HTTP 500 InternalError / 503 ServiceUnavailable (EKS: the real EKS
            types ServerException / ServiceUnavailableException); with status 400 or 403 the rule's
            "code" (required then) and "message"
  reset     closes the connection with a TCP RST and no response
  timeout   holds the connection for "ms", then closes it without a response
  latency   sleeps "ms", then forwards (combines with the other faults)
  rewrite   on 2xx responses, replaces the state value "from" by "to" in the state fields below, for
            the first "polls" responses PER RESOURCE that contain it (a counter per resource key), so
            that polling code really polls. The resource key is ACCOUNT/REGION/ plus: for REST
            services the request path (/clusters/demo); for query services the identifying request
            parameters (InstanceId.1, DBInstanceIdentifier, VpcId, ... any *Id, *Ids, *Identifier,
            *Name, *Arn parameter outside Filter.*), else all parameters except Action, Version,
            NextToken and MaxResults.
            State fields rewritten:
              XML : <instanceState><code>..</code><name>FROM</name> (EC2 instances; the code is
                    updated too), <DBInstanceStatus>, <DBClusterStatus>, <Status>, <status>,
                    <state> (VPC, subnet, NAT gateway, volume, image, ...), <State><Code> (ELBv2),
                    <SubnetGroupStatus>
              JSON: "status": "FROM" and "state": "FROM" at any depth (EKS cluster, nodegroup, ...)
            A rule may name other XML elements / JSON keys in "fields": ["MyStatus", ...].

Rules are checked in the order they were added: all firing latency rules add up, then the first
firing throttle/error/reset/timeout rule answers; rewrite rules apply to forwarded responses.
"""

import argparse
import http.client
import json
import random
import re
import socket
import struct
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_ACCOUNT = "123456789012"
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "trailers", "transfer-encoding", "upgrade", "expect", "accept-encoding", "content-length",
}
MAX_CALLS = 20000
EC2_STATE_CODES = {"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48,
                   "stopping": 64, "stopped": 80}

# (method, path regex, action) for REST-JSON EKS
EKS_ROUTES = [
    ("POST", r"/clusters", "CreateCluster"),
    ("GET", r"/clusters", "ListClusters"),
    ("GET", r"/clusters/[^/]+", "DescribeCluster"),
    ("DELETE", r"/clusters/[^/]+", "DeleteCluster"),
    ("POST", r"/clusters/[^/]+/update-config", "UpdateClusterConfig"),
    ("POST", r"/clusters/[^/]+/updates", "UpdateClusterVersion"),
    ("GET", r"/clusters/[^/]+/updates", "ListUpdates"),
    ("GET", r"/clusters/[^/]+/updates/[^/]+", "DescribeUpdate"),
    ("POST", r"/clusters/[^/]+/node-groups", "CreateNodegroup"),
    ("GET", r"/clusters/[^/]+/node-groups", "ListNodegroups"),
    ("GET", r"/clusters/[^/]+/node-groups/[^/]+", "DescribeNodegroup"),
    ("DELETE", r"/clusters/[^/]+/node-groups/[^/]+", "DeleteNodegroup"),
    ("POST", r"/clusters/[^/]+/node-groups/[^/]+/update-config", "UpdateNodegroupConfig"),
    ("POST", r"/clusters/[^/]+/node-groups/[^/]+/update-version", "UpdateNodegroupVersion"),
    ("POST", r"/clusters/[^/]+/fargate-profiles", "CreateFargateProfile"),
    ("GET", r"/clusters/[^/]+/fargate-profiles", "ListFargateProfiles"),
    ("GET", r"/clusters/[^/]+/fargate-profiles/[^/]+", "DescribeFargateProfile"),
    ("DELETE", r"/clusters/[^/]+/fargate-profiles/[^/]+", "DeleteFargateProfile"),
    ("POST", r"/clusters/[^/]+/addons", "CreateAddon"),
    ("GET", r"/clusters/[^/]+/addons", "ListAddons"),
    ("GET", r"/clusters/[^/]+/addons/[^/]+", "DescribeAddon"),
    ("DELETE", r"/clusters/[^/]+/addons/[^/]+", "DeleteAddon"),
    ("POST", r"/clusters/[^/]+/addons/[^/]+/update", "UpdateAddon"),
    ("POST", r"/clusters/[^/]+/access-entries", "CreateAccessEntry"),
    ("GET", r"/clusters/[^/]+/access-entries", "ListAccessEntries"),
    ("GET", r"/clusters/[^/]+/access-entries/[^/]+", "DescribeAccessEntry"),
    ("DELETE", r"/clusters/[^/]+/access-entries/[^/]+", "DeleteAccessEntry"),
    ("POST", r"/clusters/[^/]+/access-entries/[^/]+/access-policies", "AssociateAccessPolicy"),
    ("POST", r"/tags/.+", "TagResource"),
    ("GET", r"/tags/.+", "ListTagsForResource"),
    ("DELETE", r"/tags/.+", "UntagResource"),
    ("GET", r"/addons/supported-versions", "DescribeAddonVersions"),
]
EKS_ROUTES = [(m, re.compile(p + r"/?$"), a) for m, p, a in EKS_ROUTES]

CRED_RE = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")
KEY_PARAM_RE = re.compile(r"(Id|Ids|Identifier|Name|Names|Arn|Arns)$")


class Rule:
    def __init__(self, spec, rid):
        if not isinstance(spec, dict):
            raise ValueError("a rule is a JSON object")
        self.spec = dict(spec)
        self.id = rid
        self.fault = spec.get("fault")
        if self.fault not in ("throttle", "error", "reset", "timeout", "latency", "rewrite"):
            raise ValueError("fault must be one of throttle, error, reset, timeout, latency, rewrite")
        if self.fault == "error":
            status = int(spec.get("status", 500))
            if status not in (400, 403, 500, 502, 503, 504):
                raise ValueError("error status must be 400, 403, 500, 502, 503 or 504")
            if status < 500 and not spec.get("code"):
                raise ValueError("an error with status 400 or 403 needs its 'code'")
        if self.fault == "rewrite":
            for k in ("from", "to"):
                if not isinstance(spec.get(k), str):
                    raise ValueError("rewrite needs string 'from' and 'to'")
            self.polls = int(spec.get("polls", 1))
            self.seconds = float(spec["seconds"]) if spec.get("seconds") is not None else None
            self.first_seen = {}
        self.probability = float(spec.get("probability", 1.0))
        self.count = spec.get("count")
        self.fired = 0
        self.rng = random.Random(spec.get("seed"))
        self.per_resource = {}

    def matches(self, info):
        for k in ("service", "action", "account", "region"):
            want = self.spec.get(k)
            if want is not None and str(want).lower() != str(info[k]).lower():
                return False
        res = self.spec.get("resource")
        if res is not None and res not in info["resource"]:
            return False
        return True

    def exhausted(self):
        return self.count is not None and self.fired >= int(self.count)

    def roll(self):
        """Counts a firing if the probability allows it and the count is not used up."""
        if self.exhausted():
            return False
        if self.probability < 1.0 and self.rng.random() >= self.probability:
            return False
        self.fired += 1
        return True

    def to_json(self):
        d = dict(self.spec)
        d["id"] = self.id
        d["fired"] = self.fired
        if self.fault == "rewrite":
            d["rewritten"] = dict(self.per_resource)
        return d


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.next_id = 1
        self.calls = []

    def add_rules(self, specs):
        if isinstance(specs, dict):
            specs = [specs]
        with self.lock:
            rules = []
            for s in specs:
                rules.append(Rule(s, self.next_id))
                self.next_id += 1
            self.rules.extend(rules)
            return [r.id for r in rules]

    def clear(self, account=None):
        with self.lock:
            if account is None:
                self.rules = []
                self.calls = []
            else:
                self.rules = [r for r in self.rules if str(r.spec.get("account")) != account]
                self.calls = [c for c in self.calls if c["account"] != account]

    def clear_stats(self, account=None):
        with self.lock:
            self.calls = [] if account is None else [c for c in self.calls if c["account"] != account]

    def delete_rule(self, rid):
        with self.lock:
            before = len(self.rules)
            self.rules = [r for r in self.rules if r.id != rid]
            return len(self.rules) != before

    def record(self, call):
        with self.lock:
            self.calls.append(call)
            if len(self.calls) > MAX_CALLS:
                del self.calls[: len(self.calls) - MAX_CALLS]

    def stats(self, account=None):
        with self.lock:
            calls = [c for c in self.calls if account is None or c["account"] == account]
        counts = {}
        for c in calls:
            per = counts.setdefault(c["service"], {})
            per[c["action"]] = per.get(c["action"], 0) + 1
        return {"total": len(calls), "counts": counts, "calls": calls}

    def decide(self, info):
        """Returns (latency_ms, terminal rule or None, rewrite rules) for a request."""
        latency, terminal, rewrites = 0, None, []
        with self.lock:
            for r in self.rules:
                if not r.matches(info):
                    continue
                if r.fault == "rewrite":
                    if not r.exhausted():
                        rewrites.append(r)
                elif r.fault == "latency":
                    if r.roll():
                        latency += int(r.spec.get("ms", 1000))
                elif terminal is None and r.roll():
                    terminal = r
        return latency, terminal, rewrites


STATE = State()


# ---------------------------------------------------------------- request classification

def classify(method, path, query, headers, body):
    auth = headers.get("Authorization", "")
    m = CRED_RE.search(auth)
    if not m:
        cred = urllib.parse.parse_qs(query).get("X-Amz-Credential", [""])[0]
        m = CRED_RE.search("Credential=" + cred)
    service = m.group(4) if m else ""
    region = m.group(3) if m else ""
    account = headers.get("x-moto-account-id") or DEFAULT_ACCOUNT
    params = {}
    protocol = "rest"
    action = ""
    if path.startswith("/moto-api"):
        service = "moto-api"
    ctype = headers.get("Content-Type", "")
    target = headers.get("X-Amz-Target")
    if target:
        protocol = "json"
        action = target.rsplit(".", 1)[-1]
    else:
        qs = urllib.parse.parse_qs(query, keep_blank_values=True)
        if "Action" in qs:
            params = qs
        elif method == "POST" and "x-www-form-urlencoded" in ctype and body:
            try:
                params = urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True)
            except UnicodeDecodeError:
                params = {}
        if "Action" in params:
            protocol = "query"
            action = params["Action"][0]
    if service == "ec2" and protocol != "json":
        protocol = "ec2"
    if not action:
        if service == "eks":
            for mth, rx, name in EKS_ROUTES:
                if mth == method and rx.match(path):
                    action = name
                    break
        if not action:
            action = f"{method} {path}"
    if protocol in ("query", "ec2"):
        resource = query_resource_key(params)
    else:
        resource = path
    return {
        "service": service, "action": action, "account": account, "region": region,
        "protocol": protocol, "resource": resource,
    }


def query_resource_key(params):
    keys = []
    for name in sorted(params):
        if name.startswith(("Filter", "Tag")):
            continue
        base = re.sub(r"(\.member)?(\.\d+)+$", "", name)
        if KEY_PARAM_RE.search(base):
            keys.append(f"{name}={','.join(params[name])}")
    if not keys:
        keys = [f"{n}={','.join(v)}" for n, v in sorted(params.items())
                if n not in ("Action", "Version", "NextToken", "MaxResults")]
    return "&".join(keys)


# ---------------------------------------------------------------- fault bodies

def error_response(info, kind, rule):
    """(status, headers, body) for a throttle or error fault in the service's own shape."""
    rid = str(uuid.uuid4())
    proto = info["protocol"]
    if kind == "throttle":
        status = {"ec2": 503, "query": 400, "json": 400}.get(proto, 429)
        code = {"ec2": "RequestLimitExceeded", "query": "Throttling"}.get(proto, "ThrottlingException")
        message = "Request limit exceeded." if proto == "ec2" else "Rate exceeded"
    else:
        status = int(rule.spec.get("status", 500))
        if proto == "rest" and info["service"] == "eks":
            code = "ServiceUnavailableException" if status == 503 else "ServerException"
        else:
            code = "ServiceUnavailable" if status == 503 else "InternalError"
        message = ("Service is unavailable. Please try again later." if status == 503
                   else "An internal error has occurred" if status >= 500
                   else "The request was refused")
    code = rule.spec.get("code", code)
    message = rule.spec.get("message", message)
    esc = lambda s: s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if proto == "ec2":
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{esc(code)}"
                f"</Code><Message>{esc(message)}</Message></Error></Errors><RequestID>{rid}"
                f"</RequestID></Response>")
        headers = {"Content-Type": "text/xml;charset=UTF-8"}
    elif proto == "query":
        etype = "Sender" if status < 500 else "Receiver"
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse><Error><Type>{etype}</Type>"
                f"<Code>{esc(code)}</Code><Message>{esc(message)}</Message></Error>"
                f"<RequestId>{rid}</RequestId></ErrorResponse>")
        headers = {"Content-Type": "text/xml", "x-amzn-RequestId": rid}
    elif proto == "json":
        body = json.dumps({"__type": code, "message": message})
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": rid}
    else:
        body = json.dumps({"message": message})
        headers = {"Content-Type": "application/json", "x-amzn-ErrorType": code,
                   "x-amzn-RequestId": rid}
    return status, headers, body.encode()


# ---------------------------------------------------------------- state rewriting

XML_STATE_FIELDS = ["DBInstanceStatus", "DBClusterStatus", "Status", "status", "state",
                    "SubnetGroupStatus"]
JSON_STATE_FIELDS = ["status", "state"]


def rewrite_body(body, frm, to, extra_fields=()):
    """Returns (new_body, number_of_replacements)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return body, 0
    total = 0
    stripped = text.lstrip()
    if stripped.startswith("{") or stripped.startswith("["):
        keys = "|".join(re.escape(k) for k in JSON_STATE_FIELDS + list(extra_fields))
        rx = re.compile(r'("(?:%s)"\s*:\s*)"%s"' % (keys, re.escape(json.dumps(frm)[1:-1])))
        text, n = rx.subn(lambda m: m.group(1) + json.dumps(to), text)
        total += n
    else:
        ef = re.escape(frm)
        # EC2 instance state: <instanceState><code>16</code><name>running</name></instanceState>
        rx = re.compile(r"(<instanceState>\s*<code>)(\d+)(</code>\s*<name>)%s(</name>)" % ef)

        def inst(m):
            code = EC2_STATE_CODES.get(to, m.group(2))
            return f"{m.group(1)}{code}{m.group(3)}{to}{m.group(4)}"
        text, n = rx.subn(inst, text)
        total += n
        # ELBv2: <State><Code>active</Code>
        text, n = re.subn(r"(<State>\s*<Code>)%s(</Code>)" % ef, lambda m: m.group(1) + to + m.group(2), text)
        total += n
        for field in XML_STATE_FIELDS + list(extra_fields):
            f = re.escape(field)
            text, n = re.subn(r"(<%s>)\s*%s\s*(</%s>)" % (f, ef, f),
                              lambda m: m.group(1) + to + m.group(2), text)
            total += n
    return text.encode("utf-8"), total


# ---------------------------------------------------------------- the proxy

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "slipway-fault-proxy/1"
    upstream = None  # (host, port)

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    # every method goes through the same code
    def do_GET(self): self.handle_any()
    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_GET

    def read_body(self):
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def send_bytes(self, status, headers, body):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status, obj):
        self.send_bytes(status, {"Content-Type": "application/json"}, json.dumps(obj).encode())

    def handle_any(self):
        url = urllib.parse.urlsplit(self.path)
        path, query = url.path, url.query
        body = self.read_body()
        if path.startswith("/__proxy__/"):
            return self.control(path, query, body)
        info = classify(self.command, path, query, self.headers, body)
        latency, terminal, rewrites = STATE.decide(info)
        call = {"service": info["service"], "action": info["action"], "status": None,
                "account": info["account"], "region": info["region"], "method": self.command,
                "path": path, "fault": None}
        self.recorded = False
        try:
            if latency:
                time.sleep(latency / 1000.0)
            if terminal is not None:
                call["fault"] = terminal.fault
                if terminal.spec.get("forward"):
                    self.forward(info, path, query, body, [], call, discard=True)
                self.inject(info, terminal, call)
                return
            self.forward(info, path, query, body, rewrites, call)
        finally:
            self.record(call)

    def record(self, call):
        """Records the call once, before its answer (or its broken connection) reaches the client:
        a client that reads the stats right after its last answer sees every call it made."""
        if not self.recorded:
            self.recorded = True
            STATE.record(call)

    def inject(self, info, rule, call):
        if rule.fault in ("throttle", "error"):
            status, headers, body = error_response(info, rule.fault, rule)
            call["status"] = status
            self.record(call)
            self.send_bytes(status, headers, body)
        elif rule.fault == "reset":
            self.record(call)
            self.abort(rst=True)
        elif rule.fault == "timeout":
            time.sleep(int(rule.spec.get("ms", 10000)) / 1000.0)
            self.record(call)
            self.abort(rst=False)

    def abort(self, rst):
        self.close_connection = True
        try:
            if rst:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.connection.close()

    def forward(self, info, path, query, body, rewrites, call, discard=False):
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        if body or self.command in ("POST", "PUT", "PATCH"):
            headers["Content-Length"] = str(len(body))
        target = path + ("?" + query if query else "")
        conn = http.client.HTTPConnection(*self.upstream, timeout=300)
        try:
            try:
                conn.request(self.command, target, body=body, headers=headers)
                resp = conn.getresponse()
            except (OSError, http.client.HTTPException) as e:
                call["status"] = 502
                call["fault"] = call["fault"] or "upstream"
                if not discard:
                    self.record(call)
                    self.send_bytes(502, {"Content-Type": "text/plain"}, f"upstream error: {e}\n".encode())
                return
            if discard:
                resp.read()
                return
            out_headers = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
            call["status"] = resp.status
            self.record(call)
            if rewrites and 200 <= resp.status < 300:
                data = resp.read()
                data = self.apply_rewrites(info, data, rewrites)
                self.send_upstream_status(resp.status)
                for k, v in out_headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                return
            self.send_upstream_status(resp.status)
            for k, v in out_headers:
                self.send_header(k, v)
            length = resp.getheader("Content-Length")
            no_body = self.command == "HEAD" or resp.status in (204, 304) or 100 <= resp.status < 200
            if no_body:
                if length is not None:
                    self.send_header("Content-Length", length)
                self.end_headers()
                return
            if length is not None:
                self.send_header("Content-Length", length)
                self.end_headers()
                while True:
                    chunk = resp.read(65536)
                    if not chunk:
                        break
                    self.wfile.write(chunk)
            else:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                while True:
                    chunk = resp.read1(65536) if hasattr(resp, "read1") else resp.read(65536)
                    if not chunk:
                        break
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
        finally:
            conn.close()

    def send_upstream_status(self, status):
        # the upstream's own Date and Server headers are copied: no second set from http.server
        self.log_request(status)
        self.send_response_only(status)

    def apply_rewrites(self, info, data, rewrites):
        key = f"{info['account']}/{info['region']}/{info['resource']}"
        for r in rewrites:
            with STATE.lock:
                done = r.per_resource.get(key, 0)
                if r.exhausted():
                    continue
                if r.seconds is not None:
                    first = r.first_seen.setdefault(key, time.monotonic())
                    if time.monotonic() - first >= r.seconds:
                        continue
                elif done >= r.polls:
                    continue
            new, n = rewrite_body(data, r.spec["from"], r.spec["to"], r.spec.get("fields", ()))
            if n:
                with STATE.lock:
                    r.per_resource[key] = r.per_resource.get(key, 0) + 1
                    r.fired += 1
                data = new
        return data

    def control(self, path, query, body):
        qs = urllib.parse.parse_qs(query)
        account = qs.get("account", [None])[0]
        parts = [p for p in path.split("/") if p][1:]
        try:
            if parts == ["health"]:
                return self.send_json(200, {"ok": True})
            if parts == ["rules"] and self.command == "POST":
                spec = json.loads(body or b"null")
                return self.send_json(200, {"ids": STATE.add_rules(spec)})
            if parts == ["rules"] and self.command == "GET":
                with STATE.lock:
                    rules = [r.to_json() for r in STATE.rules]
                return self.send_json(200, {"rules": rules})
            if parts == ["rules"] and self.command == "DELETE":
                STATE.clear(account)
                return self.send_json(200, {"ok": True})
            if len(parts) == 2 and parts[0] == "rules" and self.command == "DELETE":
                ok = STATE.delete_rule(int(parts[1]))
                return self.send_json(200 if ok else 404, {"ok": ok})
            if parts == ["stats"] and self.command == "GET":
                return self.send_json(200, STATE.stats(account))
            if parts == ["stats"] and self.command == "DELETE":
                STATE.clear_stats(account)
                return self.send_json(200, {"ok": True})
        except (ValueError, TypeError) as e:
            return self.send_json(400, {"error": str(e)})
        return self.send_json(404, {"error": f"no control endpoint {self.command} {path}"})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    verbose = False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", default="127.0.0.1:45501")
    ap.add_argument("--upstream", default="http://127.0.0.1:45500")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    host, port = a.listen.rsplit(":", 1)
    up = urllib.parse.urlsplit(a.upstream)
    Handler.upstream = (up.hostname, up.port or 80)
    srv = Server((host, int(port)), Handler)
    srv.verbose = a.verbose
    print(f"fault proxy on http://{host}:{port} -> {a.upstream}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
