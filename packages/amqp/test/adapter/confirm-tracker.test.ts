import { describe, expect, it } from "vitest";
import { ConfirmTracker } from "../../src/channel/confirm-tracker.js";

function tracker() {
  const sent: string[] = [];
  const t = new ConfirmTracker((kind, tag, multiple) => sent.push(`${kind}:${tag}${multiple ? "+" : ""}`));
  return { t, sent };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("ConfirmTracker", () => {
  it("coalesces in-order acks of one turn into one multiple ack", async () => {
    const { t, sent } = tracker();
    const seqs = [t.issue(), t.issue(), t.issue()];
    t.ackAll(seqs);
    await tick();
    expect(sent).toEqual(["ack:3+"]);
  });

  it("never covers an outstanding sequence number with a multiple ack", async () => {
    const { t, sent } = tracker();
    const [a, b, c, d] = [t.issue(), t.issue(), t.issue(), t.issue()];
    t.ack(a);
    t.ack(c);
    t.ack(d);
    await tick();
    expect(sent).toEqual(["ack:1", "ack:3", "ack:4"]);
    t.ack(b);
    await tick();
    expect(sent.at(-1)).toBe("ack:2");
  });

  it("sends nacks singly and ignores a second settlement of the same seq", async () => {
    const { t, sent } = tracker();
    const a = t.issue();
    const b = t.issue();
    t.nack(a);
    t.ack(a);
    t.ack(b);
    await tick();
    expect(sent).toEqual(["nack:1", "ack:2"]);
  });
});
