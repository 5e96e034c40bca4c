import { describe, expect, it } from "vitest";
import { MemoryFileIo } from "../src/index.js";

describe("MemoryFileIo", () => {
  it("keeps only synced data, and only files whose directory entry was synced, across a crash", async () => {
    const io = new MemoryFileIo();
    await io.mkdir("/d");
    const synced = await io.open("/d/synced", "create");
    await io.writev(synced, [Buffer.from("abc")], 0);
    await io.fdatasync(synced);
    await io.writev(synced, [Buffer.from("def")], 3);
    const orphan = await io.open("/d/orphan", "create");
    await io.writev(orphan, [Buffer.from("x")], 0);
    await io.fdatasync(orphan); // data synced, but the directory entry never was
    const both = io.fileContent("/d/synced");
    expect(both?.toString()).toBe("abcdef");
    await io.syncDir("/d");
    await io.unlink("/d/orphan"); // deletion not synced: it comes back
    io.crash();
    expect(io.fileContent("/d/synced")?.toString()).toBe("abc");
    expect(io.fileContent("/d/orphan")?.toString()).toBe("x");
    await expect(io.writev(synced, [Buffer.from("z")], 0)).rejects.toMatchObject({ code: "EBADF" });
  });

  it("tears the last unsynced write reproducibly from a seed", async () => {
    const outcomes = new Set<string>();
    for (let seed = 1; seed <= 40; seed += 1) {
      const io = new MemoryFileIo();
      await io.mkdir("/d");
      const fd = await io.open("/d/f", "create");
      await io.syncDir("/d");
      await io.writev(fd, [Buffer.from("durable|")], 0);
      await io.fdatasync(fd);
      await io.writev(fd, [Buffer.from("0123456789")], 8);
      io.crash({ tearLastWrite: true, seed });
      const content = io.fileContent("/d/f")!;
      expect(content.subarray(0, 8).toString()).toBe("durable|");
      expect(content.length).toBeLessThanOrEqual(18);
      outcomes.add(content.toString("hex"));
    }
    expect(outcomes.size).toBeGreaterThan(5);
  });

  it("makes an O_DSYNC write durable at once, but only its own bytes", async () => {
    const io = new MemoryFileIo();
    await io.mkdir("/d");
    const plain = await io.open("/d/f", "create");
    await io.syncDir("/d");
    const dsync = await io.open("/d/f", "read-write-dsync");
    await io.writev(plain, [Buffer.from("unsynced|")], 0);
    await io.writev(dsync, [Buffer.from("durable")], 9);
    expect(io.counters).toMatchObject({ writes: 2, dsyncWrites: 1, syncs: 0 });
    io.crash();
    const content = io.fileContent("/d/f")!;
    expect(content.subarray(0, 9).equals(Buffer.alloc(9))).toBe(true); // a hole where the unsynced write was
    expect(content.subarray(9).toString()).toBe("durable");
    const withoutDsync = new MemoryFileIo({ dsync: false });
    await withoutDsync.mkdir("/d");
    await withoutDsync.close(await withoutDsync.open("/d/f", "create"));
    await expect(withoutDsync.open("/d/f", "read-write-dsync")).rejects.toMatchObject({ code: "ENOTSUP" });
  });

  it("injects faults once and counts calls", async () => {
    const io = new MemoryFileIo();
    await io.mkdir("/d");
    const fd = await io.open("/d/f", "create");
    io.failNextWrite();
    await expect(io.writev(fd, [Buffer.from("a")], 0)).rejects.toMatchObject({ code: "ENOSPC" });
    await io.writev(fd, [Buffer.from("a")], 0);
    io.failNextSync();
    await expect(io.fdatasync(fd)).rejects.toMatchObject({ code: "EIO" });
    await io.fdatasync(fd);
    expect(io.counters).toMatchObject({ creates: 1, writes: 2, syncs: 2, mutations: 5 });
  });

  it("runs out of space at capacityBytes with a short write first", async () => {
    const io = new MemoryFileIo();
    io.capacityBytes = 10;
    await io.mkdir("/d");
    const fd = await io.open("/d/f", "create");
    expect(await io.writev(fd, [Buffer.alloc(6), Buffer.alloc(6)], 0)).toBe(10);
    await expect(io.writev(fd, [Buffer.alloc(2)], 10)).rejects.toMatchObject({ code: "ENOSPC" });
  });

  it("answers like a file system for missing paths and non-directories", async () => {
    const io = new MemoryFileIo();
    await expect(io.readdir("/nope")).rejects.toMatchObject({ code: "ENOENT" });
    await io.mkdir("/d");
    const fd = await io.open("/d/f", "create");
    await io.close(fd);
    await expect(io.mkdir("/d/f/sub")).rejects.toMatchObject({ code: "ENOTDIR" });
    await expect(io.open("/d/f", "create")).rejects.toMatchObject({ code: "EEXIST" });
    await expect(io.open("/d/g", "read-write")).rejects.toMatchObject({ code: "ENOENT" });
  });
});
