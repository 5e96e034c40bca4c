/**
 * What the benchmark ran on, printed beside every figure: Node version, CPU count and model, memory,
 * and the filesystem holding the broker's data dir (from `df -PT`, so the disk behind an fsync is
 * named). Does not measure anything.
 */
import { execFileSync } from "node:child_process";
import { arch, availableParallelism, cpus, platform, release, totalmem } from "node:os";

export interface MachineInfo {
  node: string;
  os: string;
  cpuCount: number;
  cpuModel: string;
  memoryGiB: number;
}

export interface DiskInfo {
  device: string;
  fsType: string;
  mountPoint: string;
}

export function machineInfo(): MachineInfo {
  return {
    node: process.version,
    os: `${platform()} ${release()} ${arch()}`,
    cpuCount: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    memoryGiB: Math.round(totalmem() / 2 ** 30),
  };
}

/** The filesystem that holds `path`, or undefined where `df` is unavailable (not Linux/macOS). */
export function diskOf(path: string): DiskInfo | undefined {
  try {
    const output = execFileSync("df", ["-PT", path], { encoding: "utf8" });
    return parseDfLine(output.trim().split("\n")[1] ?? "");
  } catch {
    return undefined;
  }
}

/** Parses a `df -PT` data line: device, type, 1024-blocks, used, available, capacity, mount point. */
export function parseDfLine(line: string): DiskInfo | undefined {
  const fields = line.trim().split(/\s+/);
  if (fields.length < 7) return undefined;
  return { device: fields[0]!, fsType: fields[1]!, mountPoint: fields.slice(6).join(" ") };
}

export function describeMachine(info: MachineInfo): string {
  return `Node ${info.node}, ${info.cpuCount} CPU(s) (${info.cpuModel}), ${info.memoryGiB} GiB RAM, ${info.os}`;
}

export function describeDisk(disk: DiskInfo | undefined): string {
  return disk === undefined ? "unknown" : `${disk.device} (${disk.fsType}) mounted on ${disk.mountPoint}`;
}
