import { execFile, execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { beforeAll, describe, expect, it } from "vitest";
import * as appsV1 from "kubernetes-models/apps/v1";
import * as coreV1 from "kubernetes-models/v1";
import { parse, parseAllDocuments } from "yaml";
import { ServiceProcess } from "@t4dm/testkit";
import { notifyReady, notifyStopping } from "../libs/telemetry/src/systemd-notify.js";

// The deployment files against the design's rules: one pod, never two
// writers, only the sidecar on the WAL, probes, shutdown budget, non-root.
// Kubernetes objects are validated offline against the real API schemas
// (kubernetes-models, generated from the Kubernetes OpenAPI spec).

const root = path.resolve(import.meta.dirname, "..");
const read = (file: string) => readFileSync(path.join(root, file), "utf8");

/** Loose views of the parsed manifests: enough typing for the checks below. */
interface Env {
  name: string;
  value?: string;
}
interface Mount {
  name: string;
  mountPath: string;
  subPath?: string;
  readOnly?: boolean;
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  command?: string[];
  env?: Env[];
  ports?: { name?: string; containerPort: number }[];
  volumeMounts?: Mount[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { allowPrivilegeEscalation?: boolean; runAsNonRoot?: boolean; runAsUser?: number; capabilities?: { drop?: string[] } };
}
interface Volume {
  name: string;
  persistentVolumeClaim?: { claimName: string };
  emptyDir?: object;
  secret?: { secretName: string };
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  stringData?: Record<string, string>;
  data?: Record<string, string>;
}
interface DeploymentObject extends K8sObject {
  spec: {
    replicas?: number;
    strategy?: { type?: string };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}

function manifests(): { file: string; object: K8sObject }[] {
  const files = readdirSync(path.join(root, "k8s")).filter((f) => /\.ya?ml$/.test(f));
  return files.flatMap((file) =>
    parseAllDocuments(read(`k8s/${file}`))
      .filter((doc) => doc.contents !== null)
      .map((doc) => {
        expect(doc.errors, `${file}: YAML errors`).toEqual([]);
        return { file, object: doc.toJS() as K8sObject };
      }),
  );
}

const envOf = (c: Container, name: string) => c.env?.find((e) => e.name === name)?.value;
const within = (dir: string, target: string) => target === dir || target.startsWith(dir.endsWith("/") ? dir : `${dir}/`);

/** The PVC directory a mount exposes, and the container path it lands on. */
function pvcMounts(spec: PodSpec, container: Container): { subPath: string; mountPath: string }[] {
  const pvcVolumes = new Set((spec.volumes ?? []).filter((v) => v.persistentVolumeClaim).map((v) => v.name));
  return (container.volumeMounts ?? []).filter((m) => pvcVolumes.has(m.name)).map((m) => ({ subPath: m.subPath ?? "", mountPath: m.mountPath }));
}

/** Whether a PVC mount exposes the volume directory `dir` (e.g. "wal"). */
const exposes = (mount: { subPath: string }, dir: string) => mount.subPath === "" || within(mount.subPath.replace(/\/$/, ""), dir);

/** Seconds a preStop hook holds the container before SIGTERM. */
function preStopSeconds(container: Container): number {
  const hook = container.lifecycle?.preStop;
  if (hook?.sleep) return hook.sleep.seconds;
  const command = hook?.exec?.command ?? [];
  return command[0] === "sleep" ? Number(command[1]) : 0;
}

describe("k8s manifests", () => {
  const all = manifests();
  const objects = all.map((m) => m.object);
  const deployments = objects.filter((o): o is DeploymentObject => o.kind === "Deployment");
  const deployment = deployments[0]!;
  const pod = deployment.spec.template.spec;
  const container = (name: string) => pod.containers.find((c) => c.name === name)!;
  const memory = container("memory");
  const sidecar = container("persistence");

  it("validates every object against the Kubernetes API schema", () => {
    expect(objects.map((o) => o.kind).sort()).toEqual(["Deployment", "PersistentVolumeClaim", "Secret", "Service"]);
    // Add a group here when a manifest starts using it.
    const groups: Record<string, Record<string, unknown>> = { v1: coreV1, "apps/v1": appsV1 };
    for (const { file, object } of all) {
      const Model = groups[object.apiVersion]?.[object.kind] as (new (data: unknown) => { validate(): void }) | undefined;
      expect(Model, `${file}: no schema for ${object.apiVersion} ${object.kind}`).toBeDefined();
      expect(() => new Model!(object).validate(), `${file}: ${object.kind}/${object.metadata.name}`).not.toThrow();
    }
  });

  it("the schema check has teeth: a wrong type is refused", () => {
    const broken = structuredClone(deployment) as unknown as { spec: { replicas: unknown } };
    broken.spec.replicas = "one";
    expect(() => new appsV1.Deployment(broken as never).validate()).toThrow(/replicas/);
  });

  it("runs one pod at a time: one Deployment, strategy Recreate, one replica, nothing that scales it", () => {
    expect(deployments).toHaveLength(1);
    expect(deployment.spec.strategy?.type).toBe("Recreate");
    expect(deployment.spec.replicas).toBe(1);
    expect(objects.filter((o) => ["HorizontalPodAutoscaler", "StatefulSet", "ReplicaSet", "DaemonSet"].includes(o.kind))).toEqual([]);
    expect(pod.containers.map((c) => c.name).sort()).toEqual(["memory", "persistence"]);
  });

  it("lets only the sidecar reach wal/ and checkpoints/; the memory container mounts only store/", () => {
    for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
      const walMounts = pvcMounts(pod, c).filter((m) => exposes(m, "wal") || exposes(m, "checkpoints"));
      if (c.name === "persistence") expect(walMounts.length, "the sidecar mounts the WAL").toBeGreaterThan(0);
      else expect(walMounts, `${c.name} must not mount the WAL or checkpoints`).toEqual([]);
    }
    expect(pvcMounts(pod, memory)).toEqual([{ subPath: "store", mountPath: `${envOf(memory, "T4DM_DATA_DIR")}/store` }]);
    // The sidecar's wal/ and checkpoints/ really are on the volume, not on the container's disk.
    const dataDir = envOf(sidecar, "T4DM_DATA_DIR")!;
    for (const dir of ["wal", "checkpoints"]) {
      const mount = pvcMounts(pod, sidecar).find((m) => within(m.mountPath, `${dataDir}/${dir}`));
      expect(mount, `${dataDir}/${dir} is on the volume`).toBeDefined();
      expect(path.posix.join(mount!.subPath, path.posix.relative(mount!.mountPath, `${dataDir}/${dir}`))).toBe(dir);
    }
  });

  it("shares the sidecar socket through a pod-local emptyDir", () => {
    const address = envOf(sidecar, "T4DM_SIDECAR_ADDR")!;
    expect(address).toMatch(/^unix:\//);
    expect(envOf(memory, "T4DM_SIDECAR_ADDR")).toBe(address);
    const socketDir = path.posix.dirname(address.slice("unix:".length));
    const mountOf = (c: Container) => c.volumeMounts?.find((m) => m.mountPath === socketDir);
    expect(mountOf(memory)?.name).toBeDefined();
    expect(mountOf(sidecar)?.name).toBe(mountOf(memory)?.name);
    expect(pod.volumes?.find((v) => v.name === mountOf(memory)?.name)?.emptyDir).toBeDefined();
    expect(sidecar.ports ?? []).toEqual([]);
  });

  it("probes liveness on /health and readiness on /ready, on the HTTP port", () => {
    const httpPort = memory.ports?.find((p) => p.name === "http" || p.containerPort === 8080)!;
    expect(httpPort.containerPort).toBe(Number(envOf(memory, "T4DM_HTTP_ADDR")!.split(":").at(-1)));
    const portOk = (port: string | number | undefined) => port === httpPort.name || port === httpPort.containerPort;
    expect(memory.livenessProbe?.httpGet?.path).toBe("/health");
    expect(portOk(memory.livenessProbe?.httpGet?.port)).toBe(true);
    expect(memory.readinessProbe?.httpGet?.path).toBe("/ready");
    expect(portOk(memory.readinessProbe?.httpGet?.port)).toBe(true);
  });

  it("gives a graceful stop its whole budget: preStop + drain + checkpoint, and the sidecar outlives the memory service's last write", () => {
    const grace = pod.terminationGracePeriodSeconds ?? 30;
    const preStop = preStopSeconds(memory);
    expect(preStop).toBeGreaterThan(0);
    const drain = Number(envOf(memory, "T4DM_DRAIN_TIMEOUT") ?? 30);
    const checkpoint = Number(envOf(memory, "T4DM_SHUTDOWN_CHECKPOINT_TIMEOUT") ?? 60); // the final checkpoint's budget
    const walClose = 10;
    expect(grace).toBeGreaterThanOrEqual(60);
    expect(grace).toBeGreaterThanOrEqual(preStop + drain + checkpoint + walClose);
    const sidecarGrace = Number(envOf(sidecar, "T4DM_SIDECAR_SHUTDOWN_GRACE") ?? 90);
    expect(sidecarGrace).toBeGreaterThanOrEqual(preStop + drain + checkpoint + walClose);
    expect(sidecarGrace).toBeLessThan(grace);
  });

  it("runs as non-root with no privilege escalation, and sets requests and limits", () => {
    expect(pod.securityContext?.runAsNonRoot).toBe(true);
    expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
    for (const c of pod.containers) {
      expect(c.securityContext?.allowPrivilegeEscalation, c.name).toBe(false);
      expect(c.securityContext?.capabilities?.drop, c.name).toEqual(["ALL"]);
      expect(Object.keys(c.resources?.requests ?? {}).sort(), c.name).toEqual(["cpu", "memory"]);
      expect(c.resources?.limits?.memory, c.name).toBeDefined();
    }
  });

  it("reads API keys from a mounted Secret in the keys.json format", () => {
    const file = envOf(memory, "T4DM_API_KEYS_FILE")!;
    const mount = memory.volumeMounts!.find((m) => within(m.mountPath, file))!;
    expect(mount.readOnly).toBe(true);
    expect(mount.subPath, "no subPath, so a rotated Secret reaches the pod").toBeUndefined();
    const secretName = pod.volumes!.find((v) => v.name === mount.name)!.secret!.secretName;
    const secret = objects.find((o) => o.kind === "Secret" && o.metadata.name === secretName)!;
    const key = path.posix.relative(mount.mountPath, file);
    const text = secret.stringData?.[key] ?? Buffer.from(secret.data?.[key] ?? "", "base64").toString("utf8");
    const parsed = JSON.parse(text) as { keys: { id: string; sha256: string; namespaces: string[]; admin?: boolean }[] };
    expect(parsed.keys.length).toBeGreaterThan(0);
    for (const k of parsed.keys) {
      expect(k.id).toBeTruthy();
      expect(k.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(k.namespaces.length).toBeGreaterThan(0);
      expect(typeof (k.admin ?? false)).toBe("boolean");
    }
    // Keys are configured, so binding 0.0.0.0 is allowed.
    expect(envOf(memory, "T4DM_GRPC_ADDR")).toMatch(/^0\.0\.0\.0:/);
  });

  it("points the Service at the pod's named ports and the PVC claim at a manifest", () => {
    const service = objects.find((o) => o.kind === "Service")! as K8sObject & { spec: { selector: Record<string, string>; ports: { targetPort: string }[] } };
    expect(service.spec.selector).toEqual(deployment.spec.template.metadata.labels);
    const portNames = memory.ports!.map((p) => p.name);
    for (const port of service.spec.ports) expect(portNames).toContain(port.targetPort);
    const claim = pod.volumes!.find((v) => v.persistentVolumeClaim)!.persistentVolumeClaim!.claimName;
    expect(objects.some((o) => o.kind === "PersistentVolumeClaim" && o.metadata.name === claim)).toBe(true);
  });
});

/** The compose model as `docker compose config --format json` normalises it. */
interface ComposeService {
  image?: string;
  command?: string[];
  user?: string;
  restart?: string;
  stop_grace_period?: string;
  environment?: Record<string, string | null>;
  volumes?: { type: string; source?: string; target: string; read_only?: boolean }[];
  depends_on?: Record<string, { condition: string }>;
}

/**
 * The real `docker compose config` (the Compose v2 CLI plugin `make tools` builds into
 * .tools/docker; no engine needed): it validates the file against the Compose schema and
 * prints the model the engine would get. Fails loudly without it, like grpcurl.
 */
function composeConfig(): { services: Record<string, ComposeService>; stderr: string } {
  const dockerConfig = process.env.T4DM_DOCKER_CONFIG ?? path.join(root, ".tools", "docker");
  const plugin = path.join(dockerConfig, "cli-plugins", "docker-compose");
  if (!existsSync(plugin)) throw new Error(`the Docker Compose plugin is not at ${plugin}; run 'make tools'`);
  // The environment the README's `docker compose up` sees, minus anything this machine sets.
  const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", DOCKER_CONFIG: dockerConfig };
  const args = ["--project-directory", root, "config", "--format", "json"];
  // Through the Docker client as a user types it; the same plugin binary runs standalone where no client is installed.
  const [program, argv] = has("docker") ? ["docker", ["compose", ...args]] : [plugin, args];
  const result = spawnSync(program, argv, { cwd: root, env, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`docker compose config failed (${result.status ?? result.error?.message}): ${result.stderr}`);
  return { ...(JSON.parse(result.stdout) as { services: Record<string, ComposeService> }), stderr: result.stderr };
}

/** Seconds of a Go duration as compose prints it ("2m0s", "1m30s", "90s"). */
function seconds(duration: string | undefined): number {
  if (duration === undefined) return 10; // compose's default
  const parts = [...duration.matchAll(/(\d+(?:\.\d+)?)(h|m|s|ms)/g)];
  expect(parts.map((p) => p[0]).join(""), `a duration: ${duration}`).toBe(duration);
  const unit = { h: 3600, m: 60, s: 1, ms: 0.001 } as const;
  return parts.reduce((sum, [, n, u]) => sum + Number(n) * unit[u as keyof typeof unit], 0);
}

describe("docker-compose.yml and Dockerfile", () => {
  // In beforeAll, so a missing plugin fails these tests alone, not the whole file.
  let compose!: ReturnType<typeof composeConfig>;
  let sidecar: ComposeService | undefined, memory: ComposeService | undefined, keys: ComposeService | undefined;
  let ours: [string, ComposeService][] = [];
  beforeAll(() => {
    compose = composeConfig();
    ({ sidecar, memory, keys } = compose.services);
    ours = Object.entries(compose.services).filter(([, s]) => s.image === memory?.image);
  });
  const dockerfile = read("Dockerfile").split("\n").map((l) => l.trim());
  const finalStage = dockerfile.slice(dockerfile.map((l) => /^FROM\s/i.test(l)).lastIndexOf(true));
  const imageUser = finalStage.filter((l) => /^USER\s/i.test(l)).map((l) => l.split(/\s+/)[1]!).at(-1);

  it("passes the real `docker compose config` without a warning", () => {
    expect(sidecar && memory && keys).toBeTruthy();
    expect(compose.stderr).toBe("");
  });

  it("only the sidecar mounts the data directory (the memory service only its store)", () => {
    const dataDir = memory!.environment!.T4DM_DATA_DIR!;
    const targets = (service: ComposeService) => (service.volumes ?? []).map((v) => v.target);
    expect(targets(sidecar!)).toContain(dataDir);
    for (const target of targets(memory!)) expect(within(target, `${dataDir}/wal`) || within(target, `${dataDir}/checkpoints`) || target === dataDir, target).toBe(false);
    expect(targets(memory!)).toContain(`${dataDir}/store`);
  });

  it("the memory service starts as configured: the keys service's file lets it bind 0.0.0.0, and its admin key works", async () => {
    const env = memory!.environment as Record<string, string>;
    expect(env.T4DM_GRPC_ADDR).toMatch(/^0\.0\.0\.0:/);
    // Run the keys service's command, then the memory service with the compose environment,
    // the containers' paths moved into a scratch directory.
    const scratch = mkdtempSync(path.join(tmpdir(), "t4dm-compose-"));
    const local = (containerPath: string) => path.join(scratch, containerPath);
    const localEnv = Object.fromEntries(
      Object.entries(env).map(([name, value]) => [name, String(value ?? "").replace(/(^|unix:)(\/(var|run|etc)\/.*)$/, (_, prefix: string, p: string) => prefix + local(p))]),
    );
    try {
      const [program, ...args] = keys!.command!;
      expect(program).toBe("node");
      for (const volume of keys!.volumes!) mkdirSync(local(volume.target), { recursive: true });
      execFileSync(process.execPath, args.map((a) => (a.startsWith("/") ? local(a) : path.join(root, a))), { cwd: root, env: { PATH: process.env.PATH } });
      mkdirSync(localEnv.T4DM_DATA_DIR!, { recursive: true });
      const service = ServiceProcess.start("memory", { ...localEnv, T4DM_GRPC_ADDR: "0.0.0.0:0", T4DM_HTTP_ADDR: "0.0.0.0:0" });
      try {
        // Without keys it exits 2 here ("refusing to listen on 0.0.0.0 ... without API keys").
        const http = await service.waitForEvent("http.listening");
        // The keys file is one the keys service wrote, before the memory service starts.
        const keysFile = env.T4DM_API_KEYS_FILE!;
        const keysMount = memory!.volumes!.find((v) => within(v.target, keysFile))!;
        expect(keysMount.read_only).toBe(true);
        expect(keys!.volumes!.find((v) => v.source === keysMount.source)?.target).toBe(keysMount.target);
        expect(memory!.depends_on?.keys?.condition).toBe("service_completed_successfully");
        const adminKey = readFileSync(local(`${keysMount.target}/admin.key`), "utf8").trim();
        const url = `http://127.0.0.1:${String(http.addr).split(":").at(-1)}/status`;
        expect((await fetch(url)).status).toBe(401);
        expect((await fetch(url, { headers: { authorization: `Bearer ${adminKey}` } })).status).toBe(200);
      } finally {
        await service.kill();
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it("restarts the long-running services, gives a graceful stop its whole budget, and runs the keys service once", () => {
    expect(keys!.restart).toBe("no");
    for (const [name, service] of Object.entries(compose.services).filter(([n]) => n !== "keys")) {
      expect(["always", "unless-stopped", "on-failure"], name).toContain(service.restart);
    }
    // Drain + final checkpoint + SYSTEM_SHUTDOWN + cleanup (services/memory/src/app/shutdown.ts).
    const env = memory!.environment ?? {};
    const budget = Number(env.T4DM_DRAIN_TIMEOUT ?? 30) + Number(env.T4DM_SHUTDOWN_CHECKPOINT_TIMEOUT ?? 60) + 10 + 10;
    expect(seconds(memory!.stop_grace_period)).toBeGreaterThanOrEqual(budget);
    // The sidecar outwaits a memory service still connected (stopped alone, say).
    expect(seconds(sidecar!.stop_grace_period)).toBeGreaterThan(Number(sidecar!.environment?.T4DM_SIDECAR_SHUTDOWN_GRACE ?? 90));
  });

  it("the final image runs as a non-root user who owns every volume's mount point", () => {
    expect(imageUser, "a USER line in the final stage").toBeDefined();
    expect(["root", "0", "root:root", "0:0"]).not.toContain(imageUser);
    // A new named volume copies the ownership of the image directory it is mounted on.
    const owned = finalStage
      .filter((l) => new RegExp(`^RUN install -d -o ${imageUser} -g ${imageUser}\\b`).test(l))
      .flatMap((l) => l.split(/\s+/).filter((w) => w.startsWith("/")));
    for (const [name, service] of ours) {
      expect(service.user, `${name} keeps the image's user`).toBeUndefined();
      for (const volume of service.volumes ?? []) expect(owned, `${name}: ${volume.target}`).toContain(volume.target);
    }
  });
});

const has = (binary: string) => {
  try {
    execFileSync("sh", ["-c", `command -v ${binary}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};

describe("systemd units", () => {
  const units = ["t4dm-persistence.service", "t4dm-memory.service"].map((name) => path.join(root, "deploy", "systemd", name));
  const text = (i: number) => readFileSync(units[i]!, "utf8");

  it("are Type=notify with NotifyAccess=all, and the memory service needs and follows the sidecar", () => {
    for (const i of [0, 1]) {
      expect(text(i)).toMatch(/^Type=notify$/m);
      expect(text(i)).toMatch(/^NotifyAccess=all$/m);
    }
    expect(text(1)).toMatch(/^Requires=t4dm-persistence\.service$/m);
    expect(text(1)).toMatch(/^After=.*\bt4dm-persistence\.service\b/m);
    expect(text(1)).toMatch(/^InaccessiblePaths=.*\/var\/lib\/t4dm\/wal\b/m);
  });

  it.skipIf(!has("systemd-analyze"))("pass systemd-analyze verify with no warnings", async () => {
    const result = await new Promise<{ code: number; output: string }>((resolve) =>
      execFile("systemd-analyze", ["verify", "--man=no", ...units], (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
      ),
    );
    // verify exits 0 on unknown keys and only prints them, so any output is a failure.
    expect(result).toEqual({ code: 0, output: "" });
  });

  it.skipIf(!has("systemd-notify") || !has("python3"))("the notify helper sends READY=1 and STOPPING=1 to NOTIFY_SOCKET", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "t4dm-notify-"));
    const socket = path.join(dir, "notify.sock");
    // A stand-in for systemd's notify socket: prints each datagram, and closes the fd that
    // systemd-notify's barrier passes (that is how the manager acknowledges it).
    const receiver = spawn("python3", [
      "-c",
      [
        "import array, os, socket, sys",
        "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)",
        "s.bind(sys.argv[1])",
        "print('listening', flush=True)",
        "while True:",
        "    msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(64))",
        "    for level, kind, data in anc:",
        "        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:",
        "            fds = array.array('i'); fds.frombytes(data[: len(data) - len(data) % fds.itemsize])",
        "            [os.close(fd) for fd in fds]",
        "    print(msg.decode().replace('\\n', '|'), flush=True)",
      ].join("\n"),
      socket,
    ]);
    const lines: string[] = [];
    const listening = new Promise<void>((resolve) =>
      createInterface({ input: receiver.stdout }).on("line", (line) => {
        lines.push(line);
        if (line === "listening") resolve();
      }),
    );
    try {
      await listening;
      const env = { NOTIFY_SOCKET: socket, PATH: process.env.PATH };
      expect(await notifyReady("serving on 127.0.0.1:50051", { env })).toEqual({ sent: true });
      expect(await notifyStopping("stopping: SIGTERM", { env })).toEqual({ sent: true });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(lines).toContain("READY=1|STATUS=serving on 127.0.0.1:50051");
      expect(lines).toContain("STOPPING=1|STATUS=stopping: SIGTERM");
      // Not under systemd: nothing is spawned (a missing binary would otherwise show).
      expect(await notifyReady("x", { env: {}, binary: "/nonexistent/systemd-notify" })).toEqual({ sent: false, reason: "NOTIFY_SOCKET is not set" });
      const failed = await notifyReady("x", { env, binary: "/nonexistent/systemd-notify" });
      expect(failed.sent).toBe(false);
    } finally {
      receiver.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("restart always, as the seed asks, and cap memory like the Kubernetes limits", () => {
    const limits: Record<string, string> = { "t4dm-persistence.service": "1G", "t4dm-memory.service": "2G" };
    for (const [i, unit] of units.entries()) {
      expect(text(i), unit).toMatch(/^Restart=always$/m);
      // Bad configuration (2) and a corrupt WAL or state mismatch (3) need an operator, not a restart loop.
      expect(text(i), unit).toMatch(/^RestartPreventExitStatus=2 3$/m);
      expect(text(i), unit).toMatch(new RegExp(`^MemoryMax=${limits[path.basename(unit)]!}$`, "m"));
    }
  });

  it("ship the files the README tells an operator to install", () => {
    for (const file of ["t4dm-persistence.service", "t4dm-memory.service", "t4dm.sysusers.conf", "t4dm.env.example", "README.md"]) {
      expect(existsSync(path.join(root, "deploy", "systemd", file)), file).toBe(true);
    }
  });
});

describe("Prometheus alert rules", () => {
  interface Rule {
    alert: string;
    expr: string;
    for?: string;
    labels: { severity: string };
    annotations: { description?: string };
  }
  const rules = (parse(read("deploy/prometheus/alerts.yml")) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
  const rule = (name: string) => rules.find((r) => r.alert === name)!;

  it("keep the seed document's three rules with its thresholds", () => {
    expect(rule("T4DMCheckpointStale")).toMatchObject({ expr: "time() - ww_checkpoint_timestamp > 600", for: "5m", labels: { severity: "warning" } });
    expect(rule("T4DMBufferNearlyFull")).toMatchObject({ expr: "ww_buffer_size / ww_buffer_capacity > 0.9", for: "2m", labels: { severity: "critical" } });
    expect(rule("T4DMColdStart")).toMatchObject({ expr: "ww_recovery_mode == 1", labels: { severity: "warning" } });
    for (const r of rules) expect(r.annotations.description ?? "", r.alert).not.toBe("");
  });
});
