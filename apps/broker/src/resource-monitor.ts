/**
 * Watches the two resources whose exhaustion would make the broker lose or refuse data: memory (the
 * process's resident set against a high watermark) and free disk space under the data dir (against a
 * low limit). While either is past its mark, an alarm is raised and publishers are held
 * (connection.blocked), as RabbitMQ's memory and disk alarms do. The WAL's own ENOSPC signal raises the
 * disk alarm at once, without waiting for the next probe.
 */
import { statfs } from "node:fs/promises";
import { totalmem } from "node:os";

export interface ResourceProbe {
  residentBytes(): number;
  freeDiskBytes(): Promise<number>;
}

export function systemProbe(dataDir: string): ResourceProbe {
  return {
    residentBytes: () => process.memoryUsage.rss(),
    freeDiskBytes: async () => {
      const stats = await statfs(dataDir);
      return stats.bavail * stats.bsize;
    },
  };
}

export interface ResourceLimits {
  /** Alarm when resident memory exceeds this many bytes. */
  memoryHighWatermarkBytes: number;
  /** Alarm when free disk space falls below this many bytes. */
  diskFreeLimitBytes: number;
}

export type AlarmListener = (reason: string | undefined) => void;

export class ResourceMonitor {
  private memoryAlarm = false;
  private diskAlarm = false;
  private storeDiskFull = false;
  private timer: NodeJS.Timeout | undefined;
  private current: string | undefined;

  constructor(
    private readonly limits: ResourceLimits,
    private readonly probe: ResourceProbe,
    private readonly onChange: AlarmListener,
  ) {}

  /** Memory limit as a fraction of the machine's RAM, like RabbitMQ's vm_memory_high_watermark. */
  static memoryLimitFromFraction(fraction: number): number {
    return Math.floor(totalmem() * fraction);
  }

  async start(intervalMs = 1000): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The store hit ENOSPC (true) or wrote again after it (false). */
  setStoreDiskFull(full: boolean): void {
    this.storeDiskFull = full;
    this.publish();
  }

  async check(): Promise<void> {
    this.memoryAlarm = this.probe.residentBytes() > this.limits.memoryHighWatermarkBytes;
    try {
      this.diskAlarm = (await this.probe.freeDiskBytes()) < this.limits.diskFreeLimitBytes;
    } catch {
      // statfs failing says nothing about space; keep the previous reading
    }
    this.publish();
  }

  private publish(): void {
    const reasons: string[] = [];
    if (this.memoryAlarm) reasons.push("low on memory");
    if (this.diskAlarm || this.storeDiskFull) reasons.push("low on disk space");
    const reason = reasons.length > 0 ? reasons.join(", ") : undefined;
    if (reason === this.current) return;
    this.current = reason;
    this.onChange(reason);
  }
}
