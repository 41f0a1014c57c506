// A small W3C WebDriver client over fetch (no dependencies), for tauri-driver / WebKitWebDriver.
// Every wait polls a condition with a deadline and fails with what it was waiting for and what it
// saw last; nothing sleeps for a fixed time.

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

export class WebDriverError extends Error {
  constructor(method, path, status, value) {
    super(`WebDriver ${method} ${path} -> HTTP ${status} ${value?.error ?? ""}: ${value?.message ?? JSON.stringify(value)}`);
    this.status = status;
    this.error = value?.error;
  }
}

export async function wd(base, method, path, body, timeoutMs = 60_000) {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new WebDriverError(method, path, res.status, { message: text.slice(0, 500) });
  }
  if (!res.ok || json?.value?.error) throw new WebDriverError(method, path, res.status, json.value);
  return json.value;
}

export const sel = (testId) => `[data-testid="${testId}"]`;

export async function waitUntil(what, fn, { timeout = 15_000, interval = 50 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
      if (e instanceof WebDriverError && e.error === "invalid session id") throw e;
    }
    if (Date.now() > deadline) {
      const seen = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${seen})`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

export class Session {
  constructor(base, id) {
    this.base = base;
    this.id = id;
  }

  static async create(base, capabilities) {
    const v = await wd(base, "POST", "/session", { capabilities: { alwaysMatch: capabilities } }, 60_000);
    return new Session(base, v.sessionId);
  }

  cmd(method, path, body) {
    return wd(this.base, method, `/session/${this.id}${path}`, body);
  }

  delete() {
    return wd(this.base, "DELETE", `/session/${this.id}`, undefined, 30_000);
  }

  /** Element ids matching a CSS selector (possibly none). */
  async findAll(css) {
    const v = await this.cmd("POST", "/elements", { using: "css selector", value: css });
    return v.map((e) => e[ELEMENT]);
  }

  async find(css) {
    const [el] = await this.findAll(css);
    return el ?? null;
  }

  /** Waits until an element matching `css` exists and is displayed; returns its id. */
  waitFor(css, opts) {
    return waitUntil(
      `${css} to be shown`,
      async () => {
        const el = await this.find(css);
        return el && (await this.displayed(el)) ? el : null;
      },
      opts,
    );
  }

  /** Waits until `css` exists and its text satisfies `pred` (a RegExp or a function). */
  waitForText(css, pred, opts) {
    const test = pred instanceof RegExp ? (t) => pred.test(t) : pred;
    let seen = "(no element)";
    return waitUntil(
      `text of ${css} to match ${pred}`,
      async () => {
        const el = await this.find(css);
        if (!el) return null;
        seen = await this.text(el);
        return test(seen) ? seen : null;
      },
      opts,
    ).catch((e) => {
      throw new Error(`${e.message}; text was ${JSON.stringify(seen)}`);
    });
  }

  /** Waits until `css` has attribute `name` equal to `value`. */
  waitForAttr(css, name, value, opts) {
    let seen = "(no element)";
    return waitUntil(
      `${css} to have ${name}="${value}"`,
      async () => {
        const el = await this.find(css);
        if (!el) return null;
        seen = await this.attr(el, name);
        return seen === value ? el : null;
      },
      opts,
    ).catch((e) => {
      throw new Error(`${e.message}; ${name} was ${JSON.stringify(seen)}`);
    });
  }

  /** Waits until `css` is present and enabled, then clicks it. */
  async click(css, opts) {
    const el = await waitUntil(
      `${css} to be clickable`,
      async () => {
        const e = await this.find(css);
        return e && (await this.displayed(e)) && (await this.cmd("GET", `/element/${e}/enabled`)) ? e : null;
      },
      opts,
    );
    await this.cmd("POST", `/element/${el}/click`, {});
    return el;
  }

  async type(css, text, opts) {
    const el = await this.waitFor(css, opts);
    await this.cmd("POST", `/element/${el}/clear`, {});
    await this.cmd("POST", `/element/${el}/value`, { text });
    return el;
  }

  text(el) {
    return this.cmd("GET", `/element/${el}/text`);
  }

  attr(el, name) {
    return this.cmd("GET", `/element/${el}/attribute/${name}`);
  }

  prop(el, name) {
    return this.cmd("GET", `/element/${el}/property/${name}`);
  }

  displayed(el) {
    return this.cmd("GET", `/element/${el}/displayed`);
  }

  execute(script, args = []) {
    return this.cmd("POST", "/execute/sync", { script, args });
  }

  /** A PNG of the viewport, as a Buffer. */
  async screenshot() {
    return Buffer.from(await this.cmd("GET", "/screenshot"), "base64");
  }
}
