/**
 * Access control at broker start, in two steps around recovery:
 *
 *   prepare()  before the listener opens: load `security.json` from the data dir (or RabbitMQ's
 *              defaults on a fresh dir: vhost "/", guest/guest with full access), read the
 *              `--definitions` file and import its users, vhosts and permissions (into a copy, so a
 *              bad file changes nothing). Any problem stops the broker naming the file.
 *   apply()    after the routing core recovered: delete what vhosts deleted by `leveret vhosts delete`
 *              still hold in the log, adopt vhosts the log knows but the file does not (a lost or
 *              older security file must never cost messages), import the definitions' exchanges,
 *              queues and bindings, make all that durable, and save the security file if it changed.
 *
 * Not here: the file format (SecurityFile, core), the checks at connect time (the AMQP adapter's
 * AccessControlAuthenticator), the command line that edits users offline (users-command.ts).
 */
import { AccessControlAuthenticator } from "@leveret/amqp";
import { AccessControl, type Broker, CoreError, SecurityFile } from "@leveret/core";
import type { Logger } from "pino";
import { ConfigError } from "./config-error.js";
import {
  type Definitions,
  importAccessDefinitions,
  importResourceDefinitions,
  readDefinitionsFile,
} from "./definitions-file.js";

export class SecuritySetup {
  private constructor(
    readonly accessControl: AccessControl,
    readonly authenticator: AccessControlAuthenticator,
    private readonly file: SecurityFile,
    private readonly definitions: Definitions | undefined,
    private changed: boolean,
    private readonly logger: Logger,
  ) {}

  /** `definitionsFile` "" means none. Throws ConfigError. */
  static async prepare(dataDir: string, definitionsFile: string, logger: Logger): Promise<SecuritySetup> {
    const file = new SecurityFile(dataDir);
    const saved = await loadSecurityFile(file);
    let control = saved ? AccessControl.fromSnapshot(saved) : AccessControl.withDefaults();
    let definitions: Definitions | undefined;
    if (definitionsFile !== "") {
      definitions = await readDefinitionsFile(definitionsFile);
      const copy = AccessControl.fromSnapshot(control.snapshot());
      importAccessDefinitions(copy, definitions);
      control = copy;
      for (const section of definitions.ignored) {
        logger.warn(
          { definitions: definitionsFile, section },
          "definitions not supported by Leveret were ignored",
        );
      }
    }
    const changed = saved === undefined || definitions !== undefined;
    return new SecuritySetup(
      control,
      new AccessControlAuthenticator(control),
      file,
      definitions,
      changed,
      logger,
    );
  }

  /** The vhosts the routing core should start with. */
  get vhosts(): string[] {
    return this.accessControl.listVhosts();
  }

  /** Brings the recovered routing core and the access control into agreement. Throws ConfigError. */
  async apply(broker: Broker): Promise<void> {
    const control = this.accessControl;
    for (const name of control.pendingVhostPurges) {
      broker.deleteVhost(name);
      this.logger.info({ vhost: name }, "deleted vhost purged from the log");
    }
    for (const name of [...broker.vhosts.keys()]) {
      if (control.hasVhost(name) || control.pendingVhostPurges.includes(name)) continue;
      control.addVhost(name);
      this.changed = true;
      this.logger.warn(
        { vhost: name, securityFile: this.file.path },
        "vhost found in the log but not in the security file: kept",
      );
    }
    for (const name of control.listVhosts()) broker.ensureVhost(name);
    if (this.definitions) importResourceDefinitions(broker, this.definitions);
    // Purges and imported definitions must be on disk before the security file stops listing the purges.
    await broker.store.commit();
    for (const name of control.pendingVhostPurges) {
      control.purgeDone(name);
      this.changed = true;
    }
    if (this.changed) await saveSecurityFile(this.file, control);
  }
}

async function loadSecurityFile(file: SecurityFile) {
  try {
    return await file.load();
  } catch (error) {
    if (error instanceof CoreError) throw new ConfigError(error.message);
    throw error;
  }
}

async function saveSecurityFile(file: SecurityFile, control: AccessControl): Promise<void> {
  try {
    await file.save(control.snapshot());
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError(`security file '${file.path}' cannot be written (${code})`);
  }
}
