import { describe, expect, it } from "vitest";
import { AmqpError } from "../../src/amqp-error.js";
import { ContentAssembler } from "../../src/channel/content-assembler.js";

const publish = { exchange: "x", routingKey: "k", mandatory: false };

describe("ContentAssembler", () => {
  it("assembles a body from many frames into one buffer of the announced size", () => {
    const assembler = new ContentAssembler();
    assembler.start(publish);
    expect(assembler.header(6, Buffer.from([0, 0]))).toBeUndefined();
    expect(assembler.bodyFrame(Buffer.from("abc"))).toBeUndefined();
    const done = assembler.bodyFrame(Buffer.from("def"));
    expect(done?.body.toString()).toBe("abcdef");
    expect(assembler.expectingContent).toBe(false);
  });

  it("completes a zero-length body with the header alone", () => {
    const assembler = new ContentAssembler();
    assembler.start(publish);
    expect(assembler.header(0, Buffer.from([0, 0]))?.body.length).toBe(0);
  });

  it("copies what it keeps, so the socket's buffer may be reused", () => {
    const assembler = new ContentAssembler();
    assembler.start(publish);
    const chunk = Buffer.from("hello");
    assembler.header(5, Buffer.from([0, 0]));
    const done = assembler.bodyFrame(chunk);
    chunk.fill(0);
    expect(done?.body.toString()).toBe("hello");
  });

  it("answers 505 to content without a publish and to a body larger than announced", () => {
    const assembler = new ContentAssembler();
    expect(() => assembler.header(1, Buffer.alloc(2))).toThrow(AmqpError);
    assembler.start(publish);
    assembler.header(2, Buffer.alloc(2));
    try {
      assembler.bodyFrame(Buffer.from("too long"));
      expect.unreachable();
    } catch (error) {
      expect((error as AmqpError).replyCode).toBe(505);
    }
  });
});
