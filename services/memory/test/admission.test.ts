import { describe, expect, it } from "vitest";
import { ResourceExhaustedError } from "@t4dm/rpc";
import { Admission } from "../src/api/auth/admission.js";

describe("Admission: load limits at the door", () => {
  it("refuses work beyond the in-flight limit with RESOURCE_EXHAUSTED, and counts what is in flight", async () => {
    const admission = new Admission({ maxInFlight: 2, ratePerSecond: 0 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const first = admission.run("k", () => gate);
    const second = admission.run("k", () => gate);
    expect(admission.inFlight).toBe(2);
    await expect(admission.run("k", async () => "third")).rejects.toBeInstanceOf(ResourceExhaustedError);
    release();
    await Promise.all([first, second]);
    expect(admission.inFlight).toBe(0);
    expect(await admission.run("k", async () => "again")).toBe("again");
  });

  it("limits each key's request rate with a token bucket on an injectable clock", async () => {
    let now = 0;
    const admission = new Admission({ maxInFlight: 100, ratePerSecond: 5 }, () => now);
    const attempt = (key: string) => admission.run(key, async () => "ok").then(() => true, () => false);
    // A burst of twice the rate, then refusals.
    const burst = [];
    for (let i = 0; i < 12; i++) burst.push(await attempt("a"));
    expect(burst.filter(Boolean)).toHaveLength(10);
    // Another key has its own bucket.
    expect(await attempt("b")).toBe(true);
    // After a second, five more tokens.
    now += 1000;
    const later = [];
    for (let i = 0; i < 6; i++) later.push(await attempt("a"));
    expect(later.filter(Boolean)).toHaveLength(5);
  });
});
