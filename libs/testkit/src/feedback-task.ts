/**
 * The synthetic feedback task shared by the learning unit test
 * (libs/learning/test/learning.test.ts) and the learning bench
 * (bench/learning.mjs): five topics, each with concrete facts (useful answers
 * that mention one or two query words) and chit-chat distractors that repeat
 * the query words and answer nothing, so plain cosine ranking favours the
 * distractors. Data and seeded helpers only; each user drives it its own way.
 */

export interface Topic {
  name: string;
  /** The query vocabulary: distractors repeat it, useful memories mention one or two words of it. */
  terms: string[];
  /** Concrete answers, each naming one or two query words: see STORED_FACTS and ARRIVING_FACTS. */
  facts: string[];
}

export const TOPICS: Topic[] = [
  {
    name: "deploy",
    terms: ["deploy", "service", "kubernetes", "cluster"],
    facts: [
      "To deploy, merge to main; Argo CD syncs the memory-prod app once the image build is green.",
      "The kubernetes manifests live in deploy/k8s and kubectl apply -f deploy/k8s/memory.yaml updates the stateful set.",
      "Roll a bad deploy back with argocd app rollback memory-prod 1; it restores the previous revision in two minutes.",
      "The staging cluster is gke-staging-eu1; fetch credentials with gcloud container clusters get-credentials.",
      "Every service release needs the checklist ticket linked and one approval from the platform team.",
      "Canary traffic for the service starts at five percent for fifteen minutes, then the rollout continues by itself.",
      "Blue-green switches for the service are done by flipping the ingress weight in deploy/ingress.yaml.",
      "Node pools in the cluster autoscale between three and twelve machines during business hours.",
      "Kustomize overlays in deploy/overlays hold the per-environment patches for the kubernetes objects; Helm is gone.",
      "The service account memory-runner needs the roles/storage.objectViewer binding in the cluster to pull model files.",
    ],
  },
  {
    name: "backups",
    terms: ["database", "backup", "restore", "postgres"],
    facts: [
      "The nightly backup runs at 02:00 UTC with pgBackRest and lands in the bucket gs://acme-pg-archive.",
      "To restore a single table, start a scratch instance from the snapshot and pg_dump only that table.",
      "Point-in-time restore keeps seven days of WAL; anything older needs the weekly full image.",
      "The restore drill runs on the first Monday of each month; its runbook is wiki page DB-114.",
      "Replica lag on the postgres primary above thirty seconds pages the data team; check pg_stat_replication first.",
      "Encryption keys for the backup archive live in Vault under secret/db/archive and rotate every ninety days.",
      "Backup retention is thirty days for daily images and one year for monthly ones.",
      "The postgres superuser password needed for a restore is in Vault at secret/db/root.",
      "Logical dumps of the analytics database are taken separately every Sunday because they are huge.",
      "A failed backup retries twice, then opens a ticket in the DATA queue with the pgBackRest log attached.",
    ],
  },
  {
    name: "incidents",
    terms: ["incident", "pager", "oncall", "escalate"],
    facts: [
      "A Sev-1 incident means customer data at risk: open a bridge in the #war-room channel within five minutes.",
      "The oncall responder acknowledges in PagerDuty, then posts status updates every thirty minutes.",
      "After two unanswered pager alerts the schedule rolls to the secondary, then to the engineering manager.",
      "Incident postmortems are due within five business days and use the blameless template in docs/postmortem.md.",
      "Statuspage updates for customers are written by support, never by the oncall responder directly.",
      "The oncall hand-off happens Mondays at 10:00 with a written summary of open alerts and silences.",
      "Incident commanders rotate weekly; the current one is pinned in the #incidents channel topic.",
      "Escalate to the vendor through their P1 hotline if the outage is on their side; the number is in the handbook.",
      "Escalate silences longer than four hours: they need a linked ticket explaining the reason.",
      "The pager rotation swap form lives in the ops handbook; swaps must be agreed a day ahead.",
    ],
  },
  {
    name: "billing",
    terms: ["invoice", "billing", "customer", "refund"],
    facts: [
      "A refund under 200 euros can be issued by support in Stripe; larger ones need finance approval.",
      "Each invoice is generated on the first of the month from the usage table and emailed by Stripe.",
      "VAT is reverse-charged on the invoice for EU business accounts that supplied a valid VAT number.",
      "A disputed charge freezes the customer's payouts until the chargeback is resolved.",
      "Annual billing is upfront and prorated when seats are added in the middle of the term.",
      "The finance contact for billing questions is ap@acme.example, answered within two working days.",
      "Invoice numbers are sequential per legal entity and must never be reused, even after a void.",
      "A customer can change the billing email themselves under Settings, Organisation, Billing contact.",
      "Failed card payments retry on days three, five and seven before the customer is downgraded.",
      "Usage exports for a customer's accountant come from the admin console under Reports, as CSV per month.",
    ],
  },
  {
    name: "latency",
    terms: ["latency", "cache", "redis", "slow"],
    facts: [
      "The p99 latency budget for the search endpoint is 250 ms; the Grafana board api-latency tracks it.",
      "Hot keys in redis are spread with a random suffix so one shard does not take all the reads.",
      "The cache TTL for session entries is fifteen minutes; profile entries expire after six hours.",
      "Connection pool exhaustion in redis shows up as timeouts; raise maxclients only after checking memory.",
      "A cold cache after a deploy warms up by replaying the top ten thousand queries from yesterday.",
      "The redis eviction policy is allkeys-lfu since the move to the managed instance last spring.",
      "Slow queries over 500 ms are logged to the slow_query topic and reviewed every Friday.",
      "The redis cluster has three shards with one replica each in a different zone.",
      "Flame graphs from the staging profiler showed JSON serialisation as the main latency hotspot.",
      "The read-through cache falls back to the primary store when the lookup errors, never when it misses.",
    ],
  },
];
/** Facts 0–5 of a topic are stored before training, 6–7 arrive during it, 8–9 are held out as gate probes. */
export const STORED_FACTS = 6;
export const ARRIVING_FACTS = 8;

/** Chit-chat, questions and restatements: they repeat the query words and answer nothing. */
export const DISTRACTOR_TEMPLATES = [
  "{a} {b} {c} question again",
  "does anyone remember the {a} {b} {c} thing?",
  "we talked about {a} and {b} and {c} yesterday",
  "still confused about {a} {b} {c} {d}",
  "note to self: ask about {a} {b} {c}",
  "{a} {b} {c}? same question as last week",
  "lol the {a} {b} {c} {d} discussion again",
  "anyone know about {a} {b} {c}",
];
/** More chit-chat of the same kind, arriving during training. */
export const ARRIVING_DISTRACTOR_TEMPLATES = [
  "hmm, {a} {b} {c} again?",
  "is the {a} {b} {c} {d} thread still open",
  "reading about {a} {b} {c} later",
  "same {a} {b} {c} question from me",
];
/** New noise of the same kind, for the gate probes. */
export const NOISE_PROBE_TEMPLATES = ["ugh, {a} {b} {c} again", "who owns {a} {b} {c} {d} anyway?"];
export const TRAINING_QUERY_TEMPLATES = ["how do I {a} {b} {c}", "what is the process for {a} {b}", "{a} {b} {c} help", "need info on {a} and {b} {c}"];
/** Phrasings never seen in training. */
export const HELD_OUT_QUERY_TEMPLATES = ["explain {a} {b} {c} {d} please", "where can I find {a} {b} details", "quick question about {a} {c} {d}"];
/** During training a new memory arrives every this many episodes, as in a live service. */
export const ARRIVAL_INTERVAL = 8;

/** Fisher–Yates with the given random source. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Fills {a}…{d} with the terms in a random order. */
export function fill(template: string, terms: readonly string[], random: () => number): string {
  const [a, b, c, d] = shuffled(terms, random);
  return template.replace("{a}", a!).replace("{b}", b!).replace("{c}", c!).replace("{d}", d!);
}
