// The official Node.js SDK core's AKSKSigner (@huaweicloud/huaweicloud-sdk-core), an implementation
// nobody here wrote, signs requests to the emulator: a signed export and a signed GET with query
// parameters pass; a body, path or date changed after signing is refused with APIG.0301.
// Run by scripts/test.sh (`node --test tests/node`), which installs the pinned package with npm ci.
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert");
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const readline = require("node:readline");
const { AKSKSigner } = require("@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner");

const AK = "HPUAEXAMPLEAK1234567";
const SK = "ExampleSecretKey0123456789abcdefghijklmnop";
const PROJECT = "0123456789abcdef0123456789abcdef";
const credential = { getAk: () => AK, getSk: () => SK };
let child;
let base;

before(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "roma-node-"));
  const config = path.join(dir, "node.toml");
  fs.writeFileSync(config, `[jobs]\nduration_ms = 100\n[[auth.users]]\nname = "node-user"\naccess_key = "${AK}"\nsecret_key = "${SK}"\n`);
  const binary = process.env.ROMA_EMULATOR_BIN || path.join(__dirname, "..", "..", "target", "debug", "roma-emulator");
  child = spawn(binary, ["--listen", "127.0.0.1:0", "--config", config], { stdio: ["ignore", "pipe", "ignore"] });
  const line = await new Promise((resolve) => readline.createInterface({ input: child.stdout }).once("line", resolve));
  base = line.trim().split(" ").pop();
});

after(() => child.kill("SIGTERM"));

/** Signs with the SDK's signer, then lets `tamper` change the request before it is sent. */
async function send(method, pathAndQuery, data, tamper = (r) => r) {
  const url = new URL(base + pathAndQuery);
  const queryParams = Object.fromEntries(url.searchParams.entries());
  const request = {
    method,
    endpoint: base + url.pathname,
    queryParams,
    headers: data === undefined ? {} : { "content-type": "application/json" },
    data,
  };
  const headers = AKSKSigner.sign(request, credential);
  delete headers.host; // fetch sends the same Host itself
  const sent = tamper({ url: url.toString(), headers, body: data === undefined ? undefined : JSON.stringify(data) });
  const res = await fetch(sent.url, { method, headers: sent.headers, body: sent.body });
  return { status: res.status, body: await res.json() };
}

const exportPath = `/v2/${PROJECT}/instances/inst-a/assets/export`;
const selection = { apps: [{ id: "app-1" }] };

test("a signed export is accepted, and a signed GET with query parameters too", async () => {
  const created = await send("POST", exportPath, selection);
  assert.strictEqual(created.status, 200, JSON.stringify(created.body));
  assert.match(created.body.job_id, /^[0-9a-f]{32}$/);
  const job = await send("GET", `/v2/${PROJECT}/instances/inst-a/assets/jobs/${created.body.job_id}?limit=10&offset=0&name=a%20b`);
  assert.strictEqual(job.status, 200, JSON.stringify(job.body));
  assert.strictEqual(job.body.id, created.body.job_id);
});

for (const [what, tamper] of [
  ["a body changed after signing", (r) => ({ ...r, body: JSON.stringify({ apps: [{ id: "app-2" }] }) })],
  ["a path changed after signing", (r) => ({ ...r, url: r.url.replace("inst-a", "inst-b") })],
  ["a date changed after signing", (r) => ({ ...r, headers: { ...r.headers, "X-Sdk-Date": r.headers["X-Sdk-Date"].replace(/\d{2}Z$/, (s) => (s === "00Z" ? "01Z" : "00Z")) } })],
]) {
  test(`${what} is refused with APIG.0301`, async () => {
    const res = await send("POST", exportPath, selection, tamper);
    assert.strictEqual(res.status, 401, JSON.stringify(res.body));
    assert.strictEqual(res.body.error_code, "APIG.0301");
  });
}
