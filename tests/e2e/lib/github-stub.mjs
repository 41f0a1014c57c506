// A GitHub API stand-in on a free loopback port, answering GET /user with the shapes the real
// api.github.com sends (the same recorded shapes as crates/testkit): the good token gets a user
// with scopes "repo, workflow"; any other token gets 401 "Bad credentials".
import http from "node:http";

export async function startGithubStub({ goodToken, login = "octocat" }) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const auth = req.headers.authorization ?? "";
    requests.push({ method: req.method, url: req.url, auth });
    const json = (status, body, headers = {}) => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        "content-type": "application/json; charset=utf-8",
        "content-length": Buffer.byteLength(text),
        "x-github-media-type": "github.v3; format=json",
        ...headers,
      });
      res.end(text);
    };
    if (req.method !== "GET" || req.url.split("?")[0] !== "/user") {
      return json(404, { message: "Not Found", documentation_url: "https://docs.github.com/rest", status: "404" });
    }
    const token = auth.replace(/^(token|bearer)\s+/i, "");
    if (goodToken && token === goodToken) {
      return json(
        200,
        {
          login,
          id: 583231,
          node_id: "MDQ6VXNlcjU4MzIzMQ==",
          avatar_url: "https://avatars.githubusercontent.com/u/583231?v=4",
          type: "User",
          site_admin: false,
          name: "The Octocat",
          company: "@github",
          public_repos: 8,
          created_at: "2011-01-25T18:44:36Z",
          updated_at: "2024-01-22T12:21:43Z",
        },
        { "x-oauth-scopes": "repo, workflow", "x-ratelimit-remaining": "4999" },
      );
    }
    return json(401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest", status: "401" });
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // the app's HTTP client keeps connections alive
      }),
  };
}
