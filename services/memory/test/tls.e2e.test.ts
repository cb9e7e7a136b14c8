import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import path from "node:path";
import { credentials, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminV1 } from "@t4dm/proto";
import { makeDataDir, ServiceProcess } from "@t4dm/testkit";

/** A throwaway CA and a server (and client) certificate for 127.0.0.1, made with the real openssl. */
function makeCertificates(dir: string): void {
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=t4dm-test-ca");
  for (const name of ["server", "client"]) {
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
    const ext = path.join(dir, `${name}.ext`);
    execFileSync("sh", ["-c", `printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > ${ext}`]);
    ssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.pem`, "-days", "2", "-extfile", ext);
  }
}

function status(client: adminV1.AdminServiceClient): Promise<adminV1.GetStatusResponse> {
  return new Promise((resolve, reject) => client.getStatus({}, { deadline: Date.now() + 5000 } as never, (error: ServiceError | null, r) => (error ? reject(error) : resolve(r))));
}

describe("TLS on the public ports", () => {
  const data = makeDataDir();
  const certs = path.join(data.dir, "certs");
  let sidecar: ServiceProcess;
  let memory: ServiceProcess;
  let grpcAddr = "";
  let httpAddr = "";

  beforeAll(async () => {
    execFileSync("mkdir", ["-p", certs]);
    makeCertificates(certs);
    const env = {
      T4DM_DATA_DIR: data.dir,
      T4DM_GRPC_ADDR: "127.0.0.1:0",
      T4DM_HTTP_ADDR: "127.0.0.1:0",
      T4DM_TLS_CERT_FILE: path.join(certs, "server.pem"),
      T4DM_TLS_KEY_FILE: path.join(certs, "server.key"),
      T4DM_TLS_CLIENT_CA_FILE: path.join(certs, "ca.pem"),
    };
    sidecar = ServiceProcess.start("persistence", env);
    await sidecar.waitForEvent("grpc.listening");
    memory = ServiceProcess.start("memory", env);
    grpcAddr = String((await memory.waitForEvent("grpc.listening")).addr);
    httpAddr = String((await memory.waitForEvent("http.listening")).addr);
    await memory.waitFor((l) => l.event === "readiness" && l.ready === true);
  });
  afterAll(async () => {
    await memory?.kill();
    await sidecar?.kill();
    data.remove();
  });

  const ca = () => readFileSync(path.join(certs, "ca.pem"));

  it("serves a client that trusts the CA and presents a client certificate", async () => {
    const client = new adminV1.AdminServiceClient(
      grpcAddr,
      credentials.createSsl(ca(), readFileSync(path.join(certs, "client.key")), readFileSync(path.join(certs, "client.pem"))),
    );
    expect((await status(client)).ready).toBe(true);
    client.close();
  });

  it("refuses a client without the CA, a plaintext client, and one without a client certificate", async () => {
    for (const creds of [
      credentials.createSsl(),
      credentials.createInsecure(),
      credentials.createSsl(ca()),
    ]) {
      const client = new adminV1.AdminServiceClient(grpcAddr, creds);
      const error = (await status(client).catch((e: unknown) => e)) as ServiceError;
      expect(error.code).toBe(14);
      client.close();
    }
  });

  it("serves HTTPS with the same certificate", async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const [host, port] = httpAddr.split(":");
      request({ host, port: Number(port), path: "/health", ca: ca() }, (response) => {
        let text = "";
        response.on("data", (chunk) => (text += chunk));
        response.on("end", () => resolve(text));
      })
        .on("error", reject)
        .end();
    });
    expect(JSON.parse(body)).toEqual({ status: "alive" });
  });
});
