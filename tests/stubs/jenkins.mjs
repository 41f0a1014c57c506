// A Jenkins stand-in on a free loopback port, shared by the desktop e2e (tests/e2e) and the UI's
// page tests (ui/tests/browser), in front of the real Rust client (crates/ci). It answers with
// the shapes a real Jenkins (2.462, Pipeline Stage View plugin) sends, the same as crates/ci's
// wiremock tests: Basic auth with a user's API token (a wrong one: 401; a user without
// Overall/Read: 403), the X-Jenkins header, jobs at the top and in a folder (a folder has no ball
// colour), builds, a Pipeline build's stage view (wfapi/describe; a freestyle job has none: 404),
// the console read from an offset (progressiveText with X-Text-Size and X-More-Data), and builds
// started only with the crumb from crumbIssuer and its session cookie (403 without them).
//
// Builds follow a clock: the running build (sample-app #12) advances one stage every `stageMs`
// from the moment something first reads it, its stage view and console growing with it; a build
// started with Build now waits `queueMs` in the queue, then runs. `hold` stops running builds at
// the start of the stage named until `finish()` (the e2e's way of catching a stage in progress).
import http from "node:http";

export const VERSION = "2.462.3";
const MIN = 60_000;

function pipelinePlan(job, number, fail = "none") {
  const ws = `/var/jenkins_home/workspace/${job.replace(/\//g, "_")}`;
  const sha = ((number * 2654435761) >>> 0).toString(16).padStart(8, "0") + "3f9c1e7a2b40d63f9c1e7a2b40d63f9c1e7a";
  const test =
    fail === "test"
      ? {
          name: "Test",
          status: "FAILED",
          lines: [
            "+ docker compose run --rm backend pytest --junitxml=reports/backend.xml",
            "============================= test session starts ==============================",
            "collected 9 items",
            "tests/test_api.py ......F..                                              [100%]",
            "FAILED tests/test_api.py::test_list_items_sorted - AssertionError",
            "========================= 1 failed, 8 passed in 2.41s ==========================",
            "Recording test results",
            "[Checks API] No suitable checks publisher found.",
            "ERROR: script returned exit code 1",
          ],
        }
      : {
          name: "Test",
          status: "SUCCESS",
          lines: [
            "+ docker compose run --rm backend pytest --junitxml=reports/backend.xml",
            "============================= test session starts ==============================",
            "collected 9 items",
            "tests/test_api.py .........                                              [100%]",
            "============================== 9 passed in 2.38s ===============================",
            "+ docker compose run --rm frontend npm test -- --reporter=junit",
            "Tests: 14 passed, 14 total",
            "Recording test results",
            "[Checks API] No suitable checks publisher found.",
          ],
        };
  return [
    {
      name: "Checkout",
      status: "SUCCESS",
      lines: [
        "The recommended git tool is: NONE",
        "using credential github-token",
        "Cloning the remote Git repository",
        `Cloning repository https://github.com/octo-dev/${job.split("/").pop()}.git`,
        ` > git init ${ws} # timeout=10`,
        " > git fetch --tags --force --progress -- origin +refs/heads/*:refs/remotes/origin/* # timeout=10",
        `Checking out Revision ${sha.slice(0, 40)} (refs/remotes/origin/main)`,
        ` > git checkout -f ${sha.slice(0, 40)} # timeout=10`,
      ],
    },
    {
      name: "Build",
      status: "SUCCESS",
      lines: [
        `+ docker build -t registry.example.com/app/backend:${number} backend`,
        "#1 [internal] load build definition from Dockerfile",
        "#5 [2/4] RUN pip install --no-cache-dir -r requirements.txt",
        "#8 exporting to image",
        `#8 naming to registry.example.com/app/backend:${number} done`,
        `+ docker build -t registry.example.com/app/frontend:${number} frontend`,
        "#6 [3/5] RUN npm ci",
        `#9 naming to registry.example.com/app/frontend:${number} done`,
      ],
    },
    test,
    {
      name: "Push",
      status: "SUCCESS",
      lines: [
        "+ docker login -u **** --password-stdin registry.example.com",
        "Login Succeeded",
        `+ docker push registry.example.com/app/backend:${number}`,
        `${number}: digest: sha256:${sha.repeat(3).slice(0, 64)} size: 2204`,
        `+ docker push registry.example.com/app/frontend:${number}`,
        `${number}: digest: sha256:${sha.split("").reverse().join("").repeat(3).slice(0, 64)} size: 1987`,
      ],
    },
    {
      name: "Deploy",
      status: "SUCCESS",
      lines: [
        "+ kubectl apply --server-side --field-manager slipway -k slipway/",
        "deployment.apps/backend serverside-applied",
        "deployment.apps/frontend serverside-applied",
        "+ kubectl rollout status deployment/backend --timeout=300s",
        'deployment "backend" successfully rolled out',
        "+ kubectl rollout status deployment/frontend --timeout=300s",
        'deployment "frontend" successfully rolled out',
      ],
    },
  ];
}

function freestylePlan() {
  return [
    {
      name: "Build",
      status: "FAILED",
      lines: [
        "[nightly-backup] $ /bin/sh -xe /tmp/jenkins5312847.sh",
        "+ pg_dump --format=custom --file=/backups/nightly.dump app",
        'pg_dump: error: connection to server at "db.internal" (10.20.10.12), port 5432 failed: timeout expired',
        "Build step 'Execute shell' marked build as failure",
      ],
    },
  ];
}

const errorPage = (status, message) => `<html>\n<head>\n<title>Error ${status} ${message}</title>\n</head>\n<body><h2>HTTP ERROR ${status} ${message}</h2></body>\n</html>\n`;

/**
 * Starts the stand-in. `user` and `token` are the account that may read and build; `viewer`
 * (with `viewerToken`) may sign in but has no Overall/Read (403). Returns its `url`, every request
 * seen (`requests`: method, path, search, crumb) and the knobs the tests turn.
 */
export async function startJenkinsStub({ user, token, viewer = "viewer", viewerToken = `${token}-viewer`, stageMs = 3000, queueMs = 1500, hold = null } = {}) {
  const requests = [];
  const crumb = "6b3e1c2f9a8d7e6f5a4b3c2d1e0f9a8b";
  const session = "JSESSIONID.4f5e6d7c=node0stub.node0";
  const knobs = { stageMs, queueMs, hold, rejectCrumb: false };
  const now = () => Date.now();
  const t0 = now();

  const done = (job, number, agoMin, outcome, durationMs, plan) => ({
    number,
    timestamp: t0 - agoMin * MIN,
    plan: plan ?? pipelinePlan(job, number, outcome === "FAILURE" ? "test" : "none"),
    outcome,
    live: null,
    durationMs,
  });
  const jobs = [
    {
      name: "sample-app",
      kind: "pipeline",
      disabled: false,
      queue: [],
      builds: [
        // Running: Checkout done, Build under way, when first read.
        { number: 12, timestamp: t0 - 40_000, plan: pipelinePlan("sample-app", 12), outcome: "SUCCESS", live: { t0: null, startUnits: 1.3 }, durationMs: 0 },
        done("sample-app", 11, 95, "SUCCESS", 4 * MIN + 12_400),
        done("sample-app", 10, 26 * 60, "FAILURE", 2 * MIN + 51_000),
        done("sample-app", 9, 2 * 24 * 60, "SUCCESS", 4 * MIN + 3_100),
      ],
    },
    {
      name: "nightly-backup",
      kind: "freestyle",
      disabled: false,
      queue: [],
      builds: [
        done("nightly-backup", 31, 9 * 60, "FAILURE", 32_000, freestylePlan()),
        done("nightly-backup", 30, 33 * 60, "SUCCESS", 41_000, freestylePlan().map((s) => ({ ...s, status: "SUCCESS", lines: s.lines.slice(0, 2) }))),
      ],
    },
    { name: "legacy-deploy", kind: "freestyle", disabled: true, queue: [], builds: [] },
    { name: "team", kind: "folder", disabled: false, queue: [], builds: [] },
    {
      name: "team/api",
      kind: "pipeline",
      disabled: false,
      queue: [],
      builds: [done("team/api", 7, 300, "UNSTABLE", 3 * MIN + 5_000), done("team/api", 6, 2 * 24 * 60, "SUCCESS", 3 * MIN + 40_000)],
    },
    { name: "team/web", kind: "pipeline", disabled: false, queue: [], builds: [] },
  ];
  const unstable = jobs.find((j) => j.name === "team/api").builds[0];
  unstable.plan = unstable.plan.map((s) => (s.name === "Test" ? { ...s, status: "UNSTABLE" } : s));

  /** How far a build is, in stages (2.5: the third stage is half done). */
  const units = (b) => {
    if (!b.live) return b.plan.length;
    if (b.live.t0 === null) return b.live.startUnits;
    let u = b.live.startUnits + Math.max(0, now() - b.live.t0) / knobs.stageMs;
    if (b.live.finished) u = b.plan.length;
    else if (knobs.hold) {
      const i = b.plan.findIndex((s) => s.name === knobs.hold);
      if (i >= 0) u = Math.min(u, i + 0.5);
    }
    return u;
  };
  const outcomeOf = (b) => (b.plan.some((s) => s.status === "FAILED") ? "FAILURE" : b.plan.some((s) => s.status === "UNSTABLE") ? "UNSTABLE" : b.outcome);
  /** Queued builds whose time has come start; live builds whose stages are all done finish. */
  const tick = (job) => {
    for (const q of job.queue.filter((x) => x.startsAt <= now())) {
      const number = (job.builds[0]?.number ?? 0) + 1;
      job.builds.unshift({ number, timestamp: q.startsAt, plan: pipelinePlan(job.name, number), outcome: "SUCCESS", live: { t0: q.startsAt, startUnits: 0 }, durationMs: 0 });
    }
    job.queue = job.queue.filter((x) => x.startsAt > now());
    for (const b of job.builds) {
      if (b.live && units(b) >= b.plan.length) {
        const start = b.live.t0 ?? now();
        b.durationMs = Math.round(b.live.finished ? now() - b.timestamp : start - b.timestamp + (b.plan.length - b.live.startUnits) * knobs.stageMs);
        b.live = null;
      }
    }
  };
  /** Reading a build starts its clock. */
  const observe = (b) => {
    if (b.live && b.live.t0 === null) b.live.t0 = now();
  };
  const color = (j) => {
    if (j.kind === "folder") return null;
    if (j.disabled) return "disabled";
    const running = j.builds.some((b) => b.live !== null);
    const last = j.builds.find((b) => b.live === null);
    const base = !last ? "notbuilt" : { SUCCESS: "blue", FAILURE: "red", UNSTABLE: "yellow", ABORTED: "aborted" }[outcomeOf(last)];
    return running ? `${base}_anime` : base;
  };
  const stagesOf = (b) => {
    const p = units(b);
    const start = b.live?.t0 ?? b.timestamp;
    const startUnits = b.live?.startUnits ?? 0;
    const at = (i) => (b.live ? start + (i - startUnits) * knobs.stageMs : b.timestamp + (b.durationMs * i) / b.plan.length);
    const out = [];
    let failed = false;
    b.plan.forEach((s, i) => {
      if (p < i && b.live) return; // not started: wfapi lists only stages that began
      const id = String(6 + i * 7);
      if (failed) {
        out.push({ id, name: s.name, execNode: "", status: "NOT_EXECUTED", startTimeMillis: Math.round(at(i)), durationMillis: 0, pauseDurationMillis: 0 });
        return;
      }
      const running = b.live !== null && p < i + 1;
      const started = at(i);
      const duration = running ? Math.max(0, now() - started) : Math.round(at(i + 1) - started);
      out.push({ id, name: s.name, execNode: "", status: running ? "IN_PROGRESS" : s.status, startTimeMillis: Math.round(started), durationMillis: Math.round(duration), pauseDurationMillis: 0 });
      if (s.status === "FAILED" && !running) failed = true;
    });
    return out;
  };
  const consoleText = (job, b) => {
    const p = units(b);
    const out = ["Started by user Dev Ops"];
    if (job.kind === "pipeline") out.push("[Pipeline] Start of Pipeline", "[Pipeline] node", `Running on agent-1 in /var/jenkins_home/workspace/${job.name.replace(/\//g, "_")}`, "[Pipeline] {");
    else out.push("Running as SYSTEM", `Building in workspace /var/jenkins_home/workspace/${job.name}`);
    let failed = false;
    b.plan.forEach((s, i) => {
      if (p <= i || failed) {
        if (failed && job.kind === "pipeline" && !b.live) out.push("[Pipeline] stage", `[Pipeline] { (${s.name})`, `Stage "${s.name}" skipped due to earlier failure(s)`, "[Pipeline] }");
        return;
      }
      if (job.kind === "pipeline") out.push("[Pipeline] stage", `[Pipeline] { (${s.name})`, "[Pipeline] sh");
      const shown = p >= i + 1 ? s.lines.length : Math.max(1, Math.floor((p - i) * s.lines.length));
      out.push(...s.lines.slice(0, shown));
      if (p >= i + 1) {
        if (job.kind === "pipeline") out.push("[Pipeline] }");
        if (s.status === "FAILED") failed = true;
      }
    });
    if (!b.live) {
      if (job.kind === "pipeline") out.push("[Pipeline] }", "[Pipeline] // node", "[Pipeline] End of Pipeline");
      if (failed && job.kind === "pipeline") out.push("ERROR: script returned exit code 1");
      out.push(`Finished: ${outcomeOf(b)}`);
    }
    return out.join("\n") + "\n";
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    requests.push({ method: req.method, path: url.pathname, search: url.search, crumb: req.headers["jenkins-crumb"] ?? null, cookie: req.headers.cookie ?? null });
    const base = `http://127.0.0.1:${server.address().port}`;
    const send = (status, body, headers = {}) => {
      const text = typeof body === "string" ? body : JSON.stringify(body);
      res.writeHead(status, { "content-type": typeof body === "string" ? "text/html;charset=utf-8" : "application/json;charset=utf-8", "content-length": Buffer.byteLength(text), "x-jenkins": VERSION, "x-hudson": "1.395", ...headers });
      res.end(text);
    };
    const authz = req.headers.authorization ?? "";
    const as = (u, t) => "Basic " + Buffer.from(`${u}:${t}`).toString("base64");
    if (authz === as(viewer, viewerToken)) return send(403, errorPage(403, "Access Denied"));
    if (authz !== as(user, token)) return send(401, errorPage(401, "Unauthorized"), { "www-authenticate": 'Basic realm="Jenkins"' });

    // /job/a/job/b/... -> "a/b" and what follows.
    const segs = url.pathname.split("/").filter(Boolean);
    const names = [];
    let i = 0;
    while (segs[i] === "job" && segs[i + 1] !== undefined) {
      names.push(decodeURIComponent(segs[i + 1]));
      i += 2;
    }
    const rest = segs.slice(i);
    const name = names.join("/");
    const job = name ? jobs.find((j) => j.name === name) : null;
    const jobUrl = (n) => `${base}${n.split("/").map((x) => `/job/${encodeURIComponent(x)}`).join("")}/`;

    if (req.method === "GET" && rest.join("/") === "api/json" && (!name || job)) {
      if (job && job.kind !== "folder") {
        tick(job);
        if (url.searchParams.get("tree")?.startsWith("builds")) {
          const limit = Number(/\{0,(\d+)\}/.exec(url.searchParams.get("tree"))?.[1] ?? 100);
          return send(200, {
            _class: job.kind === "pipeline" ? "org.jenkinsci.plugins.workflow.job.WorkflowJob" : "hudson.model.FreeStyleProject",
            builds: job.builds.slice(0, limit).map((b) => ({
              _class: job.kind === "pipeline" ? "org.jenkinsci.plugins.workflow.job.WorkflowRun" : "hudson.model.FreeStyleBuild",
              number: b.number,
              result: b.live ? null : outcomeOf(b),
              building: b.live !== null,
              timestamp: b.timestamp,
              duration: b.live ? 0 : b.durationMs,
              url: `${jobUrl(job.name)}${b.number}/`,
            })),
          });
        }
        return send(200, { _class: "org.jenkinsci.plugins.workflow.job.WorkflowJob" }); // a job's api/json has no "jobs"
      }
      const children = jobs.filter((j) => (name ? j.name.startsWith(`${name}/`) && !j.name.slice(name.length + 1).includes("/") : !j.name.includes("/")));
      return send(200, {
        _class: name ? "com.cloudbees.hudson.plugins.folder.Folder" : "hudson.model.Hudson",
        jobs: children.map((j) => {
          tick(j);
          return {
            _class: { folder: "com.cloudbees.hudson.plugins.folder.Folder", pipeline: "org.jenkinsci.plugins.workflow.job.WorkflowJob", freestyle: "hudson.model.FreeStyleProject" }[j.kind],
            name: j.name.split("/").pop(),
            url: jobUrl(j.name),
            ...(j.kind === "folder" ? {} : { color: color(j), lastBuild: j.builds[0] ? { _class: "hudson.model.Run", number: j.builds[0].number } : null }),
          };
        }),
      });
    }
    if (req.method === "GET" && url.pathname === "/crumbIssuer/api/json") {
      return send(200, { _class: "hudson.security.csrf.DefaultCrumbIssuer", crumb, crumbRequestField: "Jenkins-Crumb" }, { "set-cookie": `${session}; Path=/; HttpOnly` });
    }
    if (job && job.kind !== "folder") {
      tick(job);
      if (req.method === "POST" && rest.join("/") === "build") {
        const cookieOk = (req.headers.cookie ?? "").includes(session);
        if (knobs.rejectCrumb || req.headers["jenkins-crumb"] !== crumb || !cookieOk) {
          return send(403, errorPage(403, "No valid crumb was included in the request"));
        }
        if (job.disabled) return send(409, errorPage(409, "Conflict"));
        job.queue.push({ startsAt: now() + knobs.queueMs });
        res.writeHead(201, { location: `${base}/queue/item/${310 + requests.length}/`, "content-length": 0, "x-jenkins": VERSION });
        return res.end();
      }
      const b = job.builds.find((x) => String(x.number) === rest[0]);
      if (b && req.method === "GET" && rest.slice(1).join("/") === "wfapi/describe") {
        if (job.kind !== "pipeline") return send(404, errorPage(404, "Not Found"));
        observe(b);
        tick(job);
        const status = b.live ? "IN_PROGRESS" : { SUCCESS: "SUCCESS", FAILURE: "FAILED", UNSTABLE: "UNSTABLE", ABORTED: "ABORTED" }[outcomeOf(b)];
        return send(200, {
          _links: { self: { href: `/job/${job.name}/${b.number}/wfapi/describe` } },
          id: String(b.number),
          name: `#${b.number}`,
          status,
          startTimeMillis: b.timestamp,
          endTimeMillis: b.live ? 0 : b.timestamp + b.durationMs,
          durationMillis: b.live ? now() - b.timestamp : b.durationMs,
          stages: stagesOf(b),
        });
      }
      if (b && req.method === "GET" && rest.slice(1).join("/") === "logText/progressiveText") {
        observe(b);
        tick(job);
        const all = Buffer.from(consoleText(job, b));
        const start = Math.min(Number(url.searchParams.get("start") ?? 0), all.length);
        const part = all.subarray(start);
        res.writeHead(200, { "content-type": "text/plain;charset=utf-8", "content-length": part.length, "x-text-size": String(all.length), ...(b.live ? { "x-more-data": "true" } : {}), "x-jenkins": VERSION });
        return res.end(part);
      }
    }
    return send(404, errorPage(404, "Not Found"));
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    knobs,
    /** Every running build ends now (its stages succeed) and nothing is held any more. */
    finish: () => {
      knobs.hold = null;
      for (const j of jobs) for (const b of j.builds) if (b.live) Object.assign(b.live, { t0: b.live.t0 ?? now(), finished: true });
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
